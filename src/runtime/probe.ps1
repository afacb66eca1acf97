# cauterize-probe v1
# Preflight facts for `cauterize check`. Windows PowerShell 2.0 and later.
# Each fact is one line: CZPROBE <name> <base64 of UTF-8 value>.
function Write-CzFact([string]$Name, $Value) {
    $text = ''
    if ($null -ne $Value) { $text = [string]$Value }
    $b64 = [System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($text))
    [Console]::Out.WriteLine('CZPROBE ' + $Name + ' ' + $b64)
}
Write-CzFact 'utc_now' ([DateTime]::UtcNow.ToString('o'))
Write-CzFact 'hostname' ([System.Environment]::MachineName)
$identity = [System.Security.Principal.WindowsIdentity]::GetCurrent()
Write-CzFact 'user' $identity.Name
$principal = New-Object System.Security.Principal.WindowsPrincipal($identity)
Write-CzFact 'is_admin' ($principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator))
try {
    $os = Get-WmiObject -Class Win32_OperatingSystem -ErrorAction Stop
    Write-CzFact 'os_caption' $os.Caption
    Write-CzFact 'os_build' $os.BuildNumber
} catch {
    Write-CzFact 'os_caption' ([System.Environment]::OSVersion.VersionString)
    Write-CzFact 'os_build' ([System.Environment]::OSVersion.Version.Build)
}
Write-CzFact 'ps_version' ($PSVersionTable.PSVersion.ToString())
try {
    Write-CzFact 'max_shells_per_user' ((Get-Item 'WSMan:\localhost\Shell\MaxShellsPerUser' -ErrorAction Stop).Value)
} catch {
    Write-CzFact 'max_shells_per_user' ''
}
