# cauterize-bootstrap v1
# Runs on Windows PowerShell 2.0 through 5.1 and PowerShell 7.
# The command line carries only this bootstrap (-EncodedCommand); the payload
# arrives on stdin as base64 of UTF-8 text, so no code page can mangle it.
# Exit code: the payload's own `exit N`; else $LASTEXITCODE when a native
# program's last one was not 0; else 1 when the payload's last statement
# failed (as `powershell -Command` does) or it could not be parsed; else 0.
# `$?` after `& $czBlock` does not tell whether the block's last statement
# failed (a script block's inner errors never reach the caller's `$?`), so a
# last line appended to the payload records it.
$ErrorActionPreference = 'Stop'
try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch { }
try {
    $czEncoded = (@($input) -join '').Trim()
    $czSource = [System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String($czEncoded))
    $czBlock = [ScriptBlock]::Create($czSource + "`r`n`r`n" + '$global:czLastOk = $?')
} catch {
    [Console]::Error.WriteLine('cauterize bootstrap: the payload could not be read: ' + $_.Exception.Message)
    exit 1
}
$czEncoded = $null
$czSource = $null
$ErrorActionPreference = 'Continue'
$global:czLastOk = $true
& $czBlock
if (($LASTEXITCODE -is [int]) -and ($LASTEXITCODE -ne 0)) { exit $LASTEXITCODE }
if (-not $global:czLastOk) { exit 1 }
exit 0
