' clear-cache.vbs - lists the Configuration Manager client cache and deletes its elements
' through the client's own COM API (UIResource.UIResourceMgr -> GetCacheInfo ->
' GetCacheElements -> DeleteCacheElementEx).
'
' Run it ON THE CLIENT from an elevated command prompt (Run as administrator):
'     cscript //nologo clear-cache.vbs           list the cache, then delete every element
'     cscript //nologo clear-cache.vbs /dryrun   list the cache and delete nothing
'
' DeleteCacheElementEx(id, True) also removes content marked "Persist content in the client
' cache". Deleting ccmcache folders by hand would leave the client's record of its cache (in WMI)
' out of step with the disk; going through the client keeps them in agreement.
'
' Exit codes:
'     0  finished (or nothing to delete)
'     1  the client COM object UIResource.UIResourceMgr is missing (no client, or CcmExec stopped)
'     2  the client did not return its cache information
'     3  at least one cache element could not be deleted
'     5  unknown argument
'
' Part of sccm-triage (knowledge/data/scripts). Replaces the cache script printed on the
' 'Software Update Point Troubleshooting' wiki page, which does not run as printed.

Option Explicit

Const EXIT_OK = 0
Const EXIT_NO_CLIENT = 1
Const EXIT_NO_CACHE_INFO = 2
Const EXIT_DELETE_FAILED = 3
Const EXIT_BAD_USAGE = 5

Dim isDryRun
isDryRun = ParseArguments()
WScript.Quit ClearCache(isDryRun)

' True when /dryrun (or /whatif) was given; quits with EXIT_BAD_USAGE on anything else.
Function ParseArguments()
    Dim index, argument
    ParseArguments = False
    For index = 0 To WScript.Arguments.Count - 1
        argument = LCase(WScript.Arguments(index))
        If argument = "/dryrun" Or argument = "/whatif" Then
            ParseArguments = True
        Else
            WScript.Echo "error: unknown argument '" & WScript.Arguments(index) & _
                "'. Use /dryrun to list the cache without deleting anything."
            WScript.Quit EXIT_BAD_USAGE
        End If
    Next
End Function

' Lists the cache, deletes its elements unless dryRun, and returns the exit code.
Function ClearCache(dryRun)
    Dim resourceManager, cacheInfo, elements, element, pending, elementId, failures

    Set resourceManager = CreateClientObject()
    If resourceManager Is Nothing Then
        ClearCache = EXIT_NO_CLIENT
        Exit Function
    End If

    Set cacheInfo = ReadCacheInfo(resourceManager)
    If cacheInfo Is Nothing Then
        WScript.Echo "error: the client did not return its cache information; check CAS.log on the client."
        ClearCache = EXIT_NO_CACHE_INFO
        Exit Function
    End If

    WScript.Echo "Client cache location: " & cacheInfo.Location
    WScript.Echo "Total size: " & cacheInfo.TotalSize & " MB; free: " & cacheInfo.FreeSize & _
        " MB; reserved: " & cacheInfo.ReservedSize & " MB"

    ' Take a snapshot first, so the listing and the deletions work on the same set of elements.
    Set pending = CreateObject("Scripting.Dictionary")
    Set elements = cacheInfo.GetCacheElements()
    For Each element In elements
        pending.Add element.CacheElementId, DescribeElement(element)
    Next
    WScript.Echo "Cache elements: " & pending.Count

    failures = 0
    For Each elementId In pending.Keys
        WScript.Echo "  " & pending(elementId)
        If Not dryRun Then
            If DeleteElement(cacheInfo, elementId) Then
                WScript.Echo "    deleted"
            Else
                failures = failures + 1
            End If
        End If
    Next

    If failures > 0 Then
        WScript.Echo "error: " & failures & " cache element(s) could not be deleted; retry when " & _
            "no download or installation is running on the client."
        ClearCache = EXIT_DELETE_FAILED
    ElseIf dryRun Then
        WScript.Echo "Dry run (/dryrun): nothing was deleted."
        ClearCache = EXIT_OK
    Else
        WScript.Echo "Done. Cache elements left: " & cacheInfo.GetCacheElements().Count
        ClearCache = EXIT_OK
    End If
End Function

' The client's UIResource.UIResourceMgr object, or Nothing (with a message) when it is missing.
Function CreateClientObject()
    Dim client
    On Error Resume Next
    Set client = CreateObject("UIResource.UIResourceMgr")
    If Err.Number <> 0 Then
        WScript.Echo "error: the ConfigMgr client COM object UIResource.UIResourceMgr is not " & _
            "available (" & Err.Description & "). Check that the client is installed and the " & _
            "SMS Agent Host (CcmExec) service is running."
        Set client = Nothing
    End If
    On Error GoTo 0
    Set CreateClientObject = client
End Function

' The client's cache information object, or Nothing when the client does not return one.
Function ReadCacheInfo(resourceManager)
    Dim cache
    On Error Resume Next
    Set cache = resourceManager.GetCacheInfo()
    If Err.Number <> 0 Then
        WScript.Echo "error: GetCacheInfo failed: " & Err.Description
        Set cache = Nothing
    End If
    On Error GoTo 0
    Set ReadCacheInfo = cache
End Function

Function DescribeElement(element)
    DescribeElement = element.CacheElementId & " (content " & element.ContentId & ", version " & _
        element.ContentVersion & ", " & element.ContentSize & " KB) at " & element.Location
End Function

' Deletes one element, persisted content included; False (with a message) when the client refuses.
Function DeleteElement(cacheInfo, elementId)
    On Error Resume Next
    cacheInfo.DeleteCacheElementEx elementId, True
    If Err.Number <> 0 Then
        WScript.Echo "    error: could not delete " & elementId & ": " & Err.Description
        DeleteElement = False
    Else
        DeleteElement = True
    End If
    On Error GoTo 0
End Function
