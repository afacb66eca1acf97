# cauterize-bootstrap v1
# Runs on Windows PowerShell 2.0 through 5.1 and PowerShell 7.
# The command line carries only this bootstrap (-EncodedCommand); the payload
# arrives on stdin as base64 of UTF-8 text, so no code page can mangle it.
$ErrorActionPreference = 'Stop'
try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch { }
$czEncoded = (@($input) -join '').Trim()
$czSource = [System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String($czEncoded))
$czEncoded = $null
$ErrorActionPreference = 'Continue'
& ([ScriptBlock]::Create($czSource))
if ($LASTEXITCODE -is [int]) { exit $LASTEXITCODE }
exit 0
