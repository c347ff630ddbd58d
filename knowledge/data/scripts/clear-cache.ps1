<#
.SYNOPSIS
    Lists the Configuration Manager client cache and deletes its elements through the client.

.DESCRIPTION
    Run this on the client itself, in an elevated PowerShell (Run as administrator).

    It asks the ConfigMgr client for its cache through the client's own COM API
    (UIResource.UIResourceMgr -> GetCacheInfo -> GetCacheElements), prints the cache location,
    total and free size and every cache element, then deletes each element with
    DeleteCacheElementEx(id, $true). The second argument $true also removes content that a
    deployment marked "Persist content in the client cache".

    Deleting folders under ccmcache by hand leaves the client's own record of its cache (in WMI)
    out of step with the disk; going through the client keeps the two in agreement.

    Use -WhatIf first to see what would be deleted without deleting anything.

    Exit codes:
      0  finished (or nothing to delete)
      1  the client COM object UIResource.UIResourceMgr is missing (no client, or CcmExec stopped)
      2  the client did not return its cache information
      3  at least one cache element could not be deleted
      4  not running elevated

.EXAMPLE
    .\clear-cache.ps1 -WhatIf
    Lists the cache and shows which elements would be deleted.

.EXAMPLE
    .\clear-cache.ps1
    Lists the cache and deletes every element.

.NOTES
    Part of sccm-triage (knowledge/data/scripts). Replaces the cache script printed on the
    'Software Update Point Troubleshooting' wiki page, which does not run as printed.
#>
[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
param()

Set-StrictMode -Version Latest

$ExitOk = 0
$ExitNoClient = 1
$ExitNoCacheInfo = 2
$ExitDeleteFailed = 3
$ExitNotElevated = 4

function Write-Problem {
    param([Parameter(Mandatory = $true)][string]$Message)
    # stderr, so the listing on stdout stays clean when it is redirected
    [Console]::Error.WriteLine("error: $Message")
}

function Test-Elevated {
    $identity = [Security.Principal.WindowsIdentity]::GetCurrent()
    $principal = New-Object Security.Principal.WindowsPrincipal($identity)
    return $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
}

if (-not (Test-Elevated)) {
    Write-Problem 'run this script from an elevated PowerShell (Run as administrator) on the client.'
    exit $ExitNotElevated
}

try {
    $resourceManager = New-Object -ComObject 'UIResource.UIResourceMgr' -ErrorAction Stop
}
catch {
    Write-Problem ("the ConfigMgr client COM object UIResource.UIResourceMgr is not available " +
        "($($_.Exception.Message)). Check that the client is installed and the SMS Agent Host " +
        "(CcmExec) service is running.")
    exit $ExitNoClient
}

try {
    $cacheInfo = $resourceManager.GetCacheInfo()
}
catch {
    $cacheInfo = $null
    Write-Problem "GetCacheInfo failed: $($_.Exception.Message)"
}
if ($null -eq $cacheInfo) {
    Write-Problem 'the client did not return its cache information; check CAS.log on the client.'
    exit $ExitNoCacheInfo
}

Write-Output "Client cache location: $($cacheInfo.Location)"
$sizes = @($cacheInfo.TotalSize, $cacheInfo.FreeSize, $cacheInfo.ReservedSize)
Write-Output ('Total size: {0} MB; free: {1} MB; reserved: {2} MB' -f $sizes)

# Take a snapshot first, so the listing and the deletions work on the same set of elements.
$elements = @($cacheInfo.GetCacheElements())
Write-Output "Cache elements: $($elements.Count)"

$failures = 0
foreach ($element in $elements) {
    $details = @($element.CacheElementId, $element.ContentId, $element.ContentVersion,
        $element.ContentSize, $element.Location)
    $label = '{0} (content {1}, version {2}, {3} KB) at {4}' -f $details
    Write-Output "  $label"
    if ($PSCmdlet.ShouldProcess($label, 'Delete cache element')) {
        try {
            $cacheInfo.DeleteCacheElementEx($element.CacheElementId, $true)
            Write-Output '    deleted'
        }
        catch {
            $failures++
            Write-Problem "could not delete $($element.CacheElementId): $($_.Exception.Message)"
        }
    }
}

if ($failures -gt 0) {
    Write-Problem ("$failures cache element(s) could not be deleted; retry when no download " +
        'or installation is running on the client.')
    exit $ExitDeleteFailed
}
if ($WhatIfPreference) {
    Write-Output 'Dry run (-WhatIf): nothing was deleted.'
}
else {
    $remaining = @($resourceManager.GetCacheInfo().GetCacheElements()).Count
    Write-Output "Done. Cache elements left: $remaining"
}
exit $ExitOk
