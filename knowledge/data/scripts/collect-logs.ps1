<#
.SYNOPSIS
    Collects a ConfigMgr client's software-update logs into one zip, safely, on a live client.

.DESCRIPTION
    Written for sccm-triage (`sccm script collect`). Run it elevated on the client:

        powershell -ExecutionPolicy Bypass -File .\collect-logs.ps1

    It copies C:\Windows\CCM\Logs (current files and the rotated ones: X.lo_ and
    X-YYYYMMDD-HHMMSS.log) into a staging folder, writes WindowsUpdate.log there with
    Get-WindowsUpdateLog, adds CBS.log and dism.log, zips the staging folder and prints the
    zip's path. Upload that zip to the support thread or to `sccm diagnose`.

    Nothing on the client is changed or deleted apart from the staging folder it creates.

    ConfigMgr 2002 and later can also fetch the CCM logs without touching the client: in the
    console, right-click the device > Client Diagnostics > Collect client logs. That copy lacks
    WindowsUpdate.log and CBS.log, which this script adds.

.PARAMETER Destination
    Folder that receives the staging folder and the zip (default: $env:TEMP).
#>
[CmdletBinding()]
param(
    [string]$Destination = $env:TEMP
)

$ErrorActionPreference = 'Stop'

$principal = New-Object Security.Principal.WindowsPrincipal(
    [Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Write-Error 'Run this script from an elevated PowerShell prompt (Run as administrator).'
    exit 1
}

$stamp = Get-Date -Format 'yyyyMMdd-HHmmss'
$name = "$env:COMPUTERNAME-ccm-logs-$stamp"
$staging = Join-Path $Destination $name
$zip = Join-Path $Destination "$name.zip"
$skipped = New-Object System.Collections.Generic.List[string]

function Copy-SharedRead {
    <#
        Copies one file while another process has it open for writing.

        The ConfigMgr client keeps its current logs open while it writes them. Copy-Item (and
        Compress-Archive run on the live folder) open the source without write sharing, so they
        fail on those files with "being used by another process" and leave the very logs that
        matter out of the zip. Opening the source with FileShare.ReadWrite (plus Delete, for a
        log that rotates while we read it) asks only for what the client already allows.
    #>
    param([string]$Source, [string]$Target)
    $reader = $null
    $writer = $null
    try {
        $share = [System.IO.FileShare]::ReadWrite -bor [System.IO.FileShare]::Delete
        $reader = [System.IO.File]::Open($Source, [System.IO.FileMode]::Open,
            [System.IO.FileAccess]::Read, $share)
        $writer = [System.IO.File]::Create($Target)
        $reader.CopyTo($writer)
        return $true
    }
    catch {
        $skipped.Add("${Source}: $($_.Exception.Message)")
        return $false
    }
    finally {
        if ($writer) { $writer.Dispose() }
        if ($reader) { $reader.Dispose() }
    }
}

function Copy-Folder {
    # Current logs (*.log) and rotated ones (*.lo_ and X-YYYYMMDD-HHMMSS.log) alike.
    param([string]$Source, [string]$Target)
    if (-not (Test-Path -LiteralPath $Source)) {
        $skipped.Add("${Source}: folder not found")
        return
    }
    Get-ChildItem -LiteralPath $Source -Recurse -File -Include '*.log', '*.lo_' |
        ForEach-Object {
            $relative = $_.FullName.Substring($Source.Length).TrimStart('\')
            $targetFile = Join-Path $Target $relative
            New-Item -ItemType Directory -Force -Path (Split-Path $targetFile) | Out-Null
            Copy-SharedRead -Source $_.FullName -Target $targetFile | Out-Null
        }
}

New-Item -ItemType Directory -Force -Path $staging | Out-Null

# 1. The client logs, copied first: the zip is made from this copy, never from the live folder.
Copy-Folder -Source "$env:windir\CCM\Logs" -Target (Join-Path $staging 'CCM\Logs')
Copy-Folder -Source "$env:windir\ccmsetup\Logs" -Target (Join-Path $staging 'ccmsetup\Logs')

# 2. WindowsUpdate.log: on Windows 10 and later it has to be generated from the ETW traces.
$wuLog = Join-Path $staging 'WindowsUpdate.log'
if (Get-Command Get-WindowsUpdateLog -ErrorAction SilentlyContinue) {
    try {
        Get-WindowsUpdateLog -LogPath $wuLog | Out-Null
    }
    catch {
        $skipped.Add("Get-WindowsUpdateLog: $($_.Exception.Message)")
    }
}
elseif (Test-Path "$env:windir\WindowsUpdate.log") {
    Copy-SharedRead -Source "$env:windir\WindowsUpdate.log" -Target $wuLog | Out-Null
}

# 3. Windows servicing: CBS.log (and its rotated CbsPersist_*.log) and dism.log.
New-Item -ItemType Directory -Force -Path (Join-Path $staging 'CBS') | Out-Null
Copy-SharedRead -Source "$env:windir\Logs\CBS\CBS.log" `
    -Target (Join-Path $staging 'CBS\CBS.log') | Out-Null
Get-ChildItem -Path "$env:windir\Logs\CBS" -Filter 'CbsPersist_*.log' -ErrorAction SilentlyContinue |
    Sort-Object LastWriteTime -Descending | Select-Object -First 3 |
    ForEach-Object { Copy-SharedRead -Source $_.FullName -Target (Join-Path $staging "CBS\$($_.Name)") | Out-Null }
New-Item -ItemType Directory -Force -Path (Join-Path $staging 'DISM') | Out-Null
Copy-SharedRead -Source "$env:windir\Logs\DISM\dism.log" `
    -Target (Join-Path $staging 'DISM\dism.log') | Out-Null

if ($skipped.Count -gt 0) {
    $skipped | Set-Content -Path (Join-Path $staging 'skipped.txt') -Encoding UTF8
}

# 4. Zip the copy (Compress-Archive on the staging folder: nothing in it is open).
Compress-Archive -Path (Join-Path $staging '*') -DestinationPath $zip -Force
Remove-Item -LiteralPath $staging -Recurse -Force

foreach ($line in $skipped) { Write-Warning "not collected: $line" }
Write-Output "Logs collected in: $zip"
Write-Output 'Upload this zip to the support thread, or run: sccm diagnose <zip>'
