"""Uploads full of names a customer would not want posted: hosts, users, addresses, SIDs.

Every name is made up here (none comes from the corpus). `NAMES` lists what masking must
remove; the logs still tell a plain story (content download fails with HTTP 404), so a
masked answer can be compared with the unmasked one.
"""

from __future__ import annotations

from datetime import datetime

from tests.logbuilder import cmtrace_log, timeline, zip_bytes

DP_HOST = "dp-brno07.ad.vltava-example.cz"
MP_HOST = "mp-hq01.ad.vltava-example.cz"
WSUS_HOST = "sup-hq02"
CLIENT_HOST = "WKS-KNZ4471"
USER = "kvetoslava.nemcova"
DOMAIN = "VLTAVA"
SID = "S-1-5-21-3623811015-3361044348-30300820-1013"
DP_IP = "10.44.7.19"
CLIENT_IP6 = "fd12:3456:789a:1::4471"
EMAIL = "kvetoslava.nemcova@vltava-example.cz"
UPDATE_ID = "7ab3c2d1-5e4f-4a8b-9c0d-1e2f3a4b5c6d"
KB = "KB5034441"

# Every name that must be gone from a masked answer, host label by host label too.
NAMES = (
    DP_HOST,
    MP_HOST,
    "dp-brno07",
    "mp-hq01",
    "vltava-example",
    WSUS_HOST,
    CLIENT_HOST,
    USER,
    DOMAIN,
    SID,
    DP_IP,
    CLIENT_IP6,
    EMAIL,
)


def named_logs() -> dict[str, str]:
    start = datetime(2025, 2, 11, 8, 0)
    dp_url = f"http://{DP_HOST}/SMS_DP_SMSPKG$/{UPDATE_ID}"
    location = timeline(
        start,
        (0, "LocationServices", f"Current AD site of machine is HQ; client {CLIENT_HOST}"),
        (
            2,
            "LocationServices",
            f"Calling back with the following distribution points: {dp_url} "
            f"(IP {DP_IP}), \\\\{DP_HOST}\\SMS_DP$\\{UPDATE_ID}",
        ),
    )
    cas = timeline(
        start,
        (
            3,
            "ContentAccess",
            f"Location update from CTM for content {UPDATE_ID}.1 on {CLIENT_HOST}",
        ),
        (
            60,
            "ContentAccess",
            f"Download failed for content {UPDATE_ID}.1 under context System, error 0x80190194",
            3,
        ),
    )
    ctm = timeline(
        start,
        (
            4,
            "ContentTransferManager",
            f"CTM job {{5D2E1F40-1B2C-4D3E-8F90-A1B2C3D4E5F6}} "
            f"entered phase CCM_DOWNLOADING from {dp_url} for user {DOMAIN}\\{USER}",
        ),
        (
            58,
            "ContentTransferManager",
            "CTM job {5D2E1F40-1B2C-4D3E-8F90-A1B2C3D4E5F6} has no more locations to try, "
            f"error 0x80190194. Last location {dp_url}",
            3,
        ),
    )
    dts = timeline(
        start,
        (
            30,
            "DataTransferService",
            f"DTSJob {{0C1D2E3F-4A5B-4C6D-8E7F-9A0B1C2D3E4F}} failed to download from the "
            f"only location {dp_url} after 3 attempts. Error 0x80190194. Client {CLIENT_IP6}, "
            f"profile C:\\Users\\{USER}\\AppData\\Local\\Temp",
            3,
        ),
    )
    handler = timeline(
        start,
        (
            61,
            "UpdatesHandler",
            f"CDeploymentJob -- Failed to download update ({UPDATE_ID}) {KB} for user {SID} "
            f"({EMAIL}). Error = 0x80190194",
            3,
        ),
    )
    messaging = timeline(
        start,
        (
            1,
            "CcmMessaging",
            f"OutgoingMessage(Queue='mp_mp_relayendpoint') posted to "
            f"https://{MP_HOST}/ccm_system/request by {CLIENT_HOST}$",
        ),
        (
            62,
            "CcmMessaging",
            f"Successfully sent state message to http://{MP_HOST}:80 "
            f"(WSUS {WSUS_HOST}.ad.vltava-example.cz:8530)",
        ),
    )
    return {
        f"{CLIENT_HOST}/Logs/LocationServices.log": cmtrace_log(location),
        f"{CLIENT_HOST}/Logs/CAS.log": cmtrace_log(cas),
        f"{CLIENT_HOST}/Logs/ContentTransferManager.log": cmtrace_log(ctm),
        f"{CLIENT_HOST}/Logs/DataTransferService.log": cmtrace_log(dts),
        f"{CLIENT_HOST}/Logs/UpdatesHandler.log": cmtrace_log(handler),
        f"{CLIENT_HOST}/Logs/CcmMessaging.log": cmtrace_log(messaging),
    }


def named_zip() -> bytes:
    return zip_bytes(named_logs())
