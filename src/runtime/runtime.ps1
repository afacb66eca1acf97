# cauterize-runtime v1
# The host side of cauterize. Windows PowerShell 2.0 through 5.1 and
# PowerShell 7. The job follows this script as data (a single-quoted
# here-string of `op <Kind>` / `f <name> <base64>` lines) and is passed to
# Invoke-CzRuntime; nothing in it is ever run as code.
function Invoke-CzRuntime([string]$JobText) {
    [Console]::Out.WriteLine('CZBEGIN 1')
    [Console]::Out.WriteLine('CZEND 0')
}
