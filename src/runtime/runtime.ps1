# cauterize-runtime v1
# The host side of cauterize: collects raw facts and carries out explicit,
# compare-and-delete operations. Windows PowerShell 2.0 through 5.1 and
# PowerShell 7: none of the 3.0+ JSON, CIM or ScheduledTasks cmdlets, no
# ordered-dictionary literals, no static constructor calls.
#
# The job follows this script as DATA: a single-quoted here-string of lines
# `CZJOB 2`, `op <Kind>` and `f <name> <token>`, handed to Invoke-CzRuntime.
# Nothing in it is ever run as code (no Invoke-Expression, no script block
# built from it); values are decoded with [Convert]::FromBase64String. The
# format is specified once, in src/runtime/job.rs (lines) and
# src/runtime/wire.rs (tokens); tests/data/job-vectors.txt holds Read-CzJob
# and the Rust reader to the same answers.
#
# Results are framed lines on stdout (src/runtime/results.rs), each value
# a wire token like the job's:
#   CZBEGIN 1
#   CZR <item> <record> <field>=<token> ...
#   CZEND <number of CZR lines>
# Nothing else is written to stdout: every other output is discarded.

$script:czCount = 0
$script:czWritten = 11
$script:czBudget = 12582912
$script:czMaxField = 2097152
$script:czCut = $false
$script:czDeadline = [DateTime]::UtcNow.AddSeconds(600)
$script:czItem = 0
$script:czTruncCount = 0
$script:czTruncMax = 100
$script:czUtf8 = New-Object System.Text.UTF8Encoding $false
# Throws on bytes that are not UTF-8 (the default encoding replaces them).
$script:czUtf8Strict = New-Object System.Text.UTF8Encoding $false, $true
$script:czSha = [System.Security.Cryptography.SHA256]::Create()

# One value as a wire token (src/runtime/wire.rs): '-' when empty; raw
# bytes as base64; text as base64 of its UTF-8, or, when it holds an
# unpaired surrogate (strict UTF-8 refuses it, where the default encoder
# would write U+FFFD and lose the name), 'u16:' and base64 of its UTF-16LE
# code units copied as they are.
function ConvertTo-CzToken($Value) {
    if ($Value -is [byte[]]) {
        if ($Value.Length -eq 0) { return '-' }
        return [Convert]::ToBase64String($Value)
    }
    $text = ''
    if ($null -ne $Value) { $text = [string]$Value }
    if ($text.Length -eq 0) { return '-' }
    try { return [Convert]::ToBase64String($script:czUtf8Strict.GetBytes($text)) } catch { }
    return ('u16:' + [Convert]::ToBase64String((ConvertTo-CzUnits $text)))
}

# Names from the host compared as Windows compares them (ordinal, case
# ignored): -eq compares linguistically, where an unpaired surrogate may
# count for nothing and two different names would look the same.
function Test-CzSameName([string]$A, [string]$B) {
    return [string]::Equals($A, $B, [StringComparison]::OrdinalIgnoreCase)
}

# Data compared exactly (ordinal): what compare-and-delete compares.
function Test-CzSameText([string]$A, [string]$B) {
    return [string]::Equals($A, $B, [StringComparison]::Ordinal)
}

# Cut a string to the field bound (in UTF-8 bytes); $null when it fits.
function Limit-CzText([string]$Text) {
    if ($Text.Length -le ($script:czMaxField / 4)) { return $null }
    if ($script:czUtf8.GetByteCount($Text) -le $script:czMaxField) { return $null }
    $n = [Math]::Min($Text.Length, $script:czMaxField)
    $cut = $Text.Substring(0, $n)
    while ($script:czUtf8.GetByteCount($cut) -gt $script:czMaxField) {
        $n = $n - [Math]::Max(1, [int](($script:czUtf8.GetByteCount($cut) - $script:czMaxField) / 4))
        $cut = $Text.Substring(0, $n)
    }
    return $cut
}

function Write-CzLine([string]$Line) {
    [Console]::Out.Write($Line + "`r`n")
    $script:czWritten += $Line.Length + 2
    $script:czCount++
}

# One record for the current item. $Fields: name, value, name, value, ...
function Write-CzRecord([string]$Kind, [object[]]$Fields) {
    if ($script:czCut) { return }
    $sb = New-Object System.Text.StringBuilder
    [void]$sb.Append('CZR ').Append([string]$script:czItem).Append(' ').Append($Kind)
    $cutFields = New-Object System.Collections.ArrayList
    for ($i = 0; $i -lt $Fields.Count; $i += 2) {
        $v = $Fields[$i + 1]
        if (-not ($v -is [byte[]])) {
            $v = [string]$v
            # Limit-CzText's own first test, here: most values are short,
            # and a call per field is most of a record's cost in the lab.
            if ($v.Length -gt ($script:czMaxField / 4)) {
                $short = Limit-CzText $v
                if ($null -ne $short) { $v = $short; [void]$cutFields.Add([string]$Fields[$i]) }
            }
        }
        [void]$sb.Append(' ').Append([string]$Fields[$i]).Append('=').Append((ConvertTo-CzToken $v))
    }
    $line = $sb.ToString()
    if ($script:czWritten + $line.Length + 2 + 512 -gt $script:czBudget) {
        $script:czCut = $true
        Write-CzLine ('CZR ' + $script:czItem + ' trunc what=' + (ConvertTo-CzToken 'runtime output') + ' limit=' + (ConvertTo-CzToken ([string]$script:czBudget + ' bytes')))
        return
    }
    Write-CzLine $line
    foreach ($name in $cutFields) {
        Write-CzTrunc ('field ' + $name + ' of a ' + $Kind + ' record') ([string]$script:czMaxField + ' bytes')
    }
}

# A cut, reported; at most $script:czTruncMax an item (one value per cut
# could flood the plan), the rest counted and reported once at the item's
# end (Close-CzItem). src/runtime/results.rs keeps the same cap.
function Write-CzTrunc([string]$What, [string]$Limit) {
    $script:czTruncCount++
    if ($script:czTruncCount -gt $script:czTruncMax) { return }
    Write-CzRecord 'trunc' @('what', $What, 'limit', $Limit)
}

function Close-CzItem {
    $over = $script:czTruncCount - $script:czTruncMax
    if ($over -gt 0) {
        $script:czTruncCount = 0
        Write-CzRecord 'trunc' @('what', ([string]$over + ' more cuts of this item, not listed'), 'limit', ([string]$script:czTruncMax + ' cuts listed an item'))
    }
    $script:czTruncCount = 0
}

function Test-CzLate {
    return ([DateTime]::UtcNow -gt $script:czDeadline)
}

function Format-CzTime($Time) {
    if ($null -eq $Time) { return '' }
    return ([DateTime]$Time).ToUniversalTime().ToString('o')
}

# ---- job data ----

# The text of one wire token (src/runtime/wire.rs): '-' is the empty value;
# else canonical base64 of UTF-8, or after 'u16:' of raw UTF-16LE, copied
# char for char (Encoding.Unicode would replace an unpaired surrogate with
# U+FFFD, as every .NET Encoding does by default).
function ConvertFrom-CzToken([string]$Token) {
    if ($Token.Length -eq 0) { throw 'a value is empty (the empty value is written `-`)' }
    if ($Token -ceq '-') { return '' }
    $wide = $Token.StartsWith('u16:', [StringComparison]::Ordinal)
    $b64 = $Token
    if ($wide) { $b64 = $Token.Substring(4) }
    $bytes = $null
    try { $bytes = [Convert]::FromBase64String($b64) } catch { }
    if ($null -eq $bytes -or $bytes.Length -eq 0 -or [Convert]::ToBase64String($bytes) -cne $b64) { throw 'a value is not canonical base64' }
    if ($wide) {
        if (($bytes.Length % 2) -ne 0) { throw 'a u16: value has an odd number of bytes' }
        $chars = New-Object char[] ([int]($bytes.Length / 2))
        [Buffer]::BlockCopy($bytes, 0, $chars, 0, $bytes.Length)
        return (New-Object System.String (,$chars))
    }
    try { return $script:czUtf8Strict.GetString($bytes) } catch { throw 'a value is not valid UTF-8' }
}

# The job data as items @{ Kind; Fields = @{ name = ArrayList of values } },
# read as src/runtime/job.rs specifies: split at LF, one trailing CR
# dropped, empty lines skipped, nothing trimmed; `CZJOB 2`, then exactly
# `op <Kind>` or `f <name> <token>`. Errors name the line.
function Read-CzJob([string]$Text) {
    $items = New-Object System.Collections.ArrayList
    $cur = $null
    $header = $false
    $n = 0
    foreach ($line in $Text.Split([char]10)) {
        $n++
        if ($line.Length -gt 0 -and $line[$line.Length - 1] -eq [char]13) { $line = $line.Substring(0, $line.Length - 1) }
        if ($line.Length -eq 0) { continue }
        if (-not $header) {
            if ($line -cne 'CZJOB 2') { throw ('job data line ' + $n + ': expected the CZJOB 2 header') }
            $header = $true
            continue
        }
        $p = $line.Split([char]32)
        if ($p.Count -eq 2 -and $p[0] -ceq 'op' -and $p[1] -cmatch '\A[A-Za-z0-9_]{1,64}\z') {
            $cur = @{ Kind = $p[1]; Fields = @{} }
            [void]$items.Add($cur)
        } elseif ($p.Count -eq 3 -and $p[0] -ceq 'f' -and $p[1] -cmatch '\A[A-Za-z0-9_]{1,64}\z') {
            $value = $null
            try { $value = ConvertFrom-CzToken $p[2] } catch { throw ('job data line ' + $n + ': ' + $_.Exception.Message) }
            if ($null -eq $cur) { throw ('job data line ' + $n + ': a field before any op') }
            if (-not $cur.Fields.ContainsKey($p[1])) { $cur.Fields[$p[1]] = New-Object System.Collections.ArrayList }
            [void]$cur.Fields[$p[1]].Add($value)
        } else {
            throw ('job data line ' + $n + ': a line is neither `op <Kind>` nor `f <name> <value>`')
        }
    }
    if (-not $header) { throw 'job data line 0: no CZJOB 2 header' }
    return ,$items
}

function Get-CzField($Op, [string]$Name) {
    if ($Op.Fields.ContainsKey($Name) -and $Op.Fields[$Name].Count -gt 0) { return [string]$Op.Fields[$Name][0] }
    return ''
}

function Get-CzFields($Op, [string]$Name) {
    if ($Op.Fields.ContainsKey($Name)) { return ,([object[]]$Op.Fields[$Name].ToArray()) }
    return ,([object[]]@())
}

# ---- registry ----

function Get-CzRegTypeName($Kind) {
    switch ([string]$Kind) {
        'String' { return 'REG_SZ' }
        'ExpandString' { return 'REG_EXPAND_SZ' }
        'MultiString' { return 'REG_MULTI_SZ' }
        'DWord' { return 'REG_DWORD' }
        'QWord' { return 'REG_QWORD' }
        'Binary' { return 'REG_BINARY' }
    }
    return 'REG_NONE'
}

function ConvertTo-CzHex([byte[]]$Bytes, [int]$Max) {
    $n = $Bytes.Length
    if ($Max -ge 0 -and $n -gt $Max) { $n = $Max }
    $sb = New-Object System.Text.StringBuilder ($n * 2)
    for ($i = 0; $i -lt $n; $i++) { [void]$sb.Append($Bytes[$i].ToString('x2')) }
    return $sb.ToString()
}

# @(type name, data text, cut, SHA-256, binary cut) of a value; binary
# data up to $MaxBinary bytes (-1: all); cut: the text is not all of the
# data (binary cut, or text over the field bound). The SHA-256 is of the whole data, however
# much of it the text shows: it is what a delete compares (a value cut in
# collection can still be deleted exactly).
function Get-CzRegValue($Key, [string]$Name, [int]$MaxBinary) {
    $kind = Get-CzRegTypeName ($Key.GetValueKind($Name))
    $data = $Key.GetValue($Name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
    $cut = $false
    switch ($kind) {
        'REG_SZ' { $text = [string]$data }
        'REG_EXPAND_SZ' { $text = [string]$data }
        'REG_MULTI_SZ' { $text = [string]::Join("`n", [string[]]$data) }
        'REG_DWORD' { $text = [string][BitConverter]::ToUInt32([BitConverter]::GetBytes([int]$data), 0) }
        'REG_QWORD' { $text = [string][BitConverter]::ToUInt64([BitConverter]::GetBytes([long]$data), 0) }
        default {
            if ($data -is [byte[]]) {
                $text = ConvertTo-CzHex $data $MaxBinary
                $cut = ($MaxBinary -ge 0 -and $data.Length -gt $MaxBinary)
            } else { $text = [string]$data }
        }
    }
    $binaryCut = $cut
    if (-not $cut -and $null -ne (Limit-CzText $text)) { $cut = $true }
    $sha = ConvertTo-CzHex ($script:czSha.ComputeHash((ConvertTo-CzRegBytes $kind $data))) -1
    return @($kind, $text, $cut, $sha, $binaryCut)
}

# The bytes whose SHA-256 stands for a value's data (src/runtime/ops.rs,
# reg_data_bytes): strings as their UTF-16LE code units copied as they are
# (REG_MULTI_SZ: each followed by one NUL unit), DWORD and QWORD as 4 and 8
# bytes little-endian, anything else as the bytes Windows gives.
function ConvertTo-CzRegBytes([string]$Kind, $Data) {
    switch ($Kind) {
        'REG_SZ' { return ,(ConvertTo-CzUnits ([string]$Data)) }
        'REG_EXPAND_SZ' { return ,(ConvertTo-CzUnits ([string]$Data)) }
        'REG_MULTI_SZ' {
            $ms = New-Object System.IO.MemoryStream
            foreach ($x in [string[]]$Data) {
                $b = ConvertTo-CzUnits $x
                $ms.Write($b, 0, $b.Length)
                $ms.WriteByte(0); $ms.WriteByte(0)
            }
            return ,($ms.ToArray())
        }
        'REG_DWORD' { return ,([BitConverter]::GetBytes([int]$Data)) }
        'REG_QWORD' { return ,([BitConverter]::GetBytes([long]$Data)) }
    }
    if ($Data -is [byte[]]) { return ,$Data }
    return ,(ConvertTo-CzUnits ([string]$Data))
}

# A string's UTF-16LE code units as bytes, unpaired surrogates included.
function ConvertTo-CzUnits([string]$Text) {
    $chars = $Text.ToCharArray()
    $bytes = New-Object byte[] (2 * $chars.Length)
    [Buffer]::BlockCopy($chars, 0, $bytes, 0, $bytes.Length)
    return ,$bytes
}

# Value names of a key, at most the bound (the cut reported).
function Get-CzValueNames($Key, [string]$Label, $Bounds) {
    $names = $Key.GetValueNames()
    $max = [int]$Bounds.max_values_per_key
    if ($names.Count -gt $max) {
        Write-CzTrunc ('values under ' + $Label) ([string]$max + ' values')
        $names = $names[0..($max - 1)]
    }
    return ,([object[]]$names)
}

function Open-CzKey($Root, [string]$Path) {
    try { return $Root.OpenSubKey($Path, $false) } catch { return $null }
}

function Write-CzAutorunValues($Root, [string]$Hive, [string]$UserSid, [string]$Rel, [string[]]$Only, $Bounds) {
    $key = Open-CzKey $Root $Rel
    if ($null -eq $key) { return }
    try {
        foreach ($name in (Get-CzValueNames $key ($Hive + '\' + $Rel) $Bounds)) {
            if ($Only.Count -gt 0) {
                $wanted = $false
                foreach ($o in $Only) { if ($o -eq $name) { $wanted = $true } }
                if (-not $wanted) { continue }
            }
            $v = Get-CzRegValue $key $name -1
            $cut = '0'; if ($v[2]) { $cut = '1' }
            Write-CzRecord 'autorun' @('kind', 'registry', 'hive', $Hive, 'key', $Rel, 'value', $name, 'user_sid', $UserSid, 'command', $v[1], 'value_type', $v[0], 'data_sha256', $v[3], 'data_cut', $cut)
        }
    } finally { $key.Close() }
}

function Get-CzSubKeyNames($Root, [string]$Rel) {
    $key = Open-CzKey $Root $Rel
    if ($null -eq $key) { return ,([object[]]@()) }
    try { return ,([object[]]$key.GetSubKeyNames()) } finally { $key.Close() }
}

# SYSTEM, LocalService, NetworkService: hives always loaded at HKU\<SID>.
$script:czServiceSids = @('S-1-5-18', 'S-1-5-19', 'S-1-5-20')

$script:czRunKeys = @(
    'Software\Microsoft\Windows\CurrentVersion\Run',
    'Software\Microsoft\Windows\CurrentVersion\RunOnce',
    'Software\Wow6432Node\Microsoft\Windows\CurrentVersion\Run',
    'Software\Wow6432Node\Microsoft\Windows\CurrentVersion\RunOnce',
    'Software\Microsoft\Windows\CurrentVersion\Policies\Explorer\Run')

function Write-CzHiveAutoruns($Root, [string]$Hive, [string]$UserSid, $Bounds) {
    foreach ($rel in $script:czRunKeys) { Write-CzAutorunValues $Root $Hive $UserSid $rel @() $Bounds }
    if ($UserSid -eq '') {
        $wl = 'SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon'
        Write-CzAutorunValues $Root $Hive '' $wl @('Shell', 'Userinit') $Bounds
        foreach ($n in (Get-CzSubKeyNames $Root ($wl + '\Notify'))) {
            Write-CzAutorunValues $Root $Hive '' ($wl + '\Notify\' + $n) @('DLLName') $Bounds
        }
        $ifeo = 'SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options'
        foreach ($n in (Get-CzSubKeyNames $Root $ifeo)) {
            Write-CzAutorunValues $Root $Hive '' ($ifeo + '\' + $n) @('Debugger') $Bounds
        }
        foreach ($rel in @('SOFTWARE\Microsoft\Windows NT\CurrentVersion\Windows', 'SOFTWARE\Wow6432Node\Microsoft\Windows NT\CurrentVersion\Windows')) {
            Write-CzAutorunValues $Root $Hive '' $rel @('AppInit_DLLs') $Bounds
        }
    } else {
        Write-CzAutorunValues $Root $Hive $UserSid 'Software\Microsoft\Windows NT\CurrentVersion\Winlogon' @('Shell') $Bounds
    }
}

# Values of $Root\$Rel as reg records; $Shown is the key as reported (the
# key under the user's hive for a class hive mounted on its own).
function Write-CzResidueValues($Root, [string]$Hive, [string]$Rel, [bool]$BinaryOnly, $Bounds, [string]$Shown = '') {
    if ($Shown -eq '') { $Shown = $Rel }
    $key = Open-CzKey $Root $Rel
    if ($null -eq $key) { return }
    try {
        foreach ($name in (Get-CzValueNames $key ($Hive + '\' + $Shown) $Bounds)) {
            if ($BinaryOnly -and (Get-CzRegTypeName ($key.GetValueKind($name))) -ne 'REG_BINARY') { continue }
            $v = Get-CzRegValue $key $name ([int]$Bounds.max_binary_bytes)
            if ($v[4]) { Write-CzTrunc ('data of ' + $Hive + '\' + $Shown) ([string]$Bounds.max_binary_bytes + ' bytes') }
            Write-CzRegRecord $Hive $Shown $name $v
        }
    } finally { $key.Close() }
}

# One value as a reg record; $V is what Get-CzRegValue returns.
function Write-CzRegRecord([string]$Hive, [string]$Key, [string]$Name, $V) {
    $cut = '0'; if ($V[2]) { $cut = '1' }
    Write-CzRecord 'reg' @('hive', $Hive, 'key', $Key, 'value', $Name, 'value_type', $V[0], 'data', $V[1], 'data_sha256', $V[3], 'data_cut', $cut)
}

# Class keys whose shell command Windows runs for a protocol, a file type or
# an auto-elevating binary (fodhelper and computerdefaults: ms-settings;
# eventvwr: mscfile; sdclt: exefile, Folder; WSReset: AppX...): the values
# of their open and runas commands, as reg records.
$script:czClassKeys = @('ms-settings', 'mscfile', 'exefile', 'Folder', 'Launcher.SystemSettings')

# $Classes is where the classes are under $Root ('' for a user's
# UsrClass.dat mounted on its own); records name them under $Shown.
function Write-CzClassCommands($Root, [string]$Hive, [string]$Classes, $Bounds, [string]$Shown = '') {
    if ($Shown -eq '') { $Shown = $Classes }
    $names = New-Object System.Collections.ArrayList
    [void]$names.AddRange($script:czClassKeys)
    foreach ($n in (Get-CzSubKeyNames $Root $Classes)) {
        if ($n.StartsWith('AppX', [StringComparison]::OrdinalIgnoreCase)) { [void]$names.Add($n) }
    }
    $max = [int]$Bounds.max_items
    if ($names.Count -gt $max) {
        Write-CzTrunc ('class keys under ' + $Hive + '\' + $Shown) ([string]$max + ' keys')
        $names.RemoveRange($max, $names.Count - $max)
    }
    foreach ($n in $names) {
        foreach ($verb in @('open', 'runas')) {
            $tail = $n + '\shell\' + $verb + '\command'
            $rel = $tail
            if ($Classes -ne '') { $rel = $Classes + '\' + $tail }
            Write-CzResidueValues $Root $Hive $rel $false $Bounds ($Shown + '\' + $tail)
        }
    }
}

function Write-CzUserResidue($Root, [string]$Sid, $Bounds) {
    foreach ($sub in (Get-CzSubKeyNames $Root 'Software\Microsoft')) {
        Write-CzResidueValues $Root $Sid ('Software\Microsoft\' + $sub) $true $Bounds
    }
    Write-CzResidueValues $Root $Sid 'Software\Microsoft\Windows\CurrentVersion\Explorer' $false $Bounds
    Write-CzSoftwareValues $Root $Sid $Bounds
}

# Text values shorter than this directly under a user's Software\<key> are
# a program's settings, not a stored stage, and are not reported: the
# shortest text src/detect/registry_payload.rs judges (MIN_SCRIPT; a test
# holds the two equal).
$script:czPayloadMinChars = 200

# Subkeys of a user's Software whose values are read elsewhere, or are
# Windows' own.
$script:czSoftwareSkipped = @('Microsoft', 'Classes', 'Policies', 'Wow6432Node')

# The text values (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ) of at least
# $script:czPayloadMinChars characters directly under each Software\<key>
# and Software\Wow6432Node\<key> of a user's hive, as reg records: where
# loaders keep a stage as base64 or script text. At most max_items keys,
# max_values_per_key values a key and max_field_bytes of text for the
# hive; every cut reported.
function Write-CzSoftwareValues($Root, [string]$Sid, $Bounds) {
    $keys = New-Object System.Collections.ArrayList
    foreach ($base in @('Software', 'Software\Wow6432Node')) {
        foreach ($n in (Get-CzSubKeyNames $Root $base)) {
            $skip = $false
            foreach ($x in $script:czSoftwareSkipped) { if (Test-CzSameName $n $x) { $skip = $true } }
            if (-not $skip) { [void]$keys.Add($base + '\' + $n) }
        }
    }
    $max = [int]$Bounds.max_items
    if ($keys.Count -gt $max) {
        Write-CzTrunc ('keys under ' + $Sid + '\Software') ([string]$max + ' keys')
        $keys.RemoveRange($max, $keys.Count - $max)
    }
    $left = [long]$Bounds.max_field_bytes
    foreach ($rel in $keys) {
        if (Test-CzLate) { Write-CzTrunc ('text values under ' + $Sid + '\Software') 'time limit'; return }
        $key = Open-CzKey $Root $rel
        if ($null -eq $key) { continue }
        try {
            foreach ($name in (Get-CzValueNames $key ($Sid + '\' + $rel) $Bounds)) {
                $kind = Get-CzRegTypeName ($key.GetValueKind($name))
                if ($kind -ne 'REG_SZ' -and $kind -ne 'REG_EXPAND_SZ' -and $kind -ne 'REG_MULTI_SZ') { continue }
                $v = Get-CzRegValue $key $name 0
                if ($v[1].Length -lt $script:czPayloadMinChars) { continue }
                if ($v[1].Length -gt $left) {
                    Write-CzTrunc ('text values under ' + $Sid + '\Software from ' + $rel + '\' + $name) ([string]$Bounds.max_field_bytes + ' bytes')
                    return
                }
                $left -= $v[1].Length
                Write-CzRegRecord $Sid $rel $name $v
            }
        } finally { $key.Close() }
    }
}

# ---- user profiles and hives ----

function Get-CzProfiles {
    $list = New-Object System.Collections.ArrayList
    $plPath = 'SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'
    $pl = Open-CzKey ([Microsoft.Win32.Registry]::LocalMachine) $plPath
    if ($null -eq $pl) { return ,$list }
    try {
        foreach ($sid in $pl.GetSubKeyNames()) {
            # Local and domain accounts (S-1-5-21-), Azure AD / Entra ID
            # accounts (S-1-12-1-). Service accounts have no profile to
            # mount: their hives are always loaded (Open-CzUserHive).
            if (-not ($sid.StartsWith('S-1-5-21-') -or $sid.StartsWith('S-1-12-1-'))) { continue }
            $k = Open-CzKey $pl $sid
            if ($null -eq $k) { continue }
            try { $raw = [string]$k.GetValue('ProfileImagePath') } finally { $k.Close() }
            if ($raw -eq '') { continue }
            $path = [Environment]::ExpandEnvironmentVariables($raw)
            $name = Split-Path -Leaf $path
            try {
                $acct = (New-Object System.Security.Principal.SecurityIdentifier($sid)).Translate([System.Security.Principal.NTAccount]).Value
                $name = $acct.Substring($acct.LastIndexOf('\') + 1)
            } catch { }
            $on = $false
            $hk = Open-CzKey ([Microsoft.Win32.Registry]::Users) $sid
            if ($null -ne $hk) { $on = $true; $hk.Close() }
            [void]$list.Add(@{ Sid = $sid; Name = $name; Path = $path; LoggedOn = $on })
        }
    } finally { $pl.Close() }
    return ,$list
}

function Get-CzProfile([string]$Sid) {
    foreach ($p in (Get-CzProfiles)) { if ($p.Sid -eq $Sid) { return $p } }
    return $null
}

# Make a user's hive reachable: HKU\<SID> when loaded, else its NTUSER.DAT
# loaded under HKU\cz_<random>. Returns @(subkey name under HKU, temp);
# always pair with Dismount-CzHive in a finally block.
function Mount-CzHive($User) {
    if ($User.LoggedOn) { return @($User.Sid, $false) }
    return (Mount-CzHiveFile (Join-Path $User.Path 'NTUSER.DAT'))
}

# A user's classes (Software\Classes of their hive) live in UsrClass.dat,
# which Windows links under HKU\<SID>_Classes only while they are logged on.
# For a user who is not, load it on its own: @(subkey under HKU, temp,
# path of the classes under it); pair with Dismount-CzHive.
function Mount-CzClassHive($User) {
    if ($User.LoggedOn) { return @($User.Sid, $false, 'Software\Classes') }
    $m = Mount-CzHiveFile (Join-Path $User.Path 'AppData\Local\Microsoft\Windows\UsrClass.dat')
    return @($m[0], $m[1], '')
}

function Mount-CzHiveFile([string]$File) {
    $ErrorActionPreference = 'Continue'
    $file = $File
    if (-not [System.IO.File]::Exists($file)) { throw ($file + ' does not exist') }
    $mount = 'cz_' + ([Guid]::NewGuid().ToString('N').Substring(0, 8))
    $out = & reg.exe load ('HKU\' + $mount) $file 2>&1
    if ($LASTEXITCODE -ne 0) { throw ('reg load ' + $file + ': ' + ([string]::Join(' ', @($out | ForEach-Object { [string]$_ })))) }
    return @($mount, $true)
}

function Dismount-CzHive($Mounted) {
    if (-not $Mounted[1]) { return }
    $ErrorActionPreference = 'Continue'
    [GC]::Collect()
    [GC]::WaitForPendingFinalizers()
    for ($try = 0; $try -lt 5; $try++) {
        $out = & reg.exe unload ('HKU\' + $Mounted[0]) 2>&1
        if ($LASTEXITCODE -eq 0) { return }
        Start-Sleep -Milliseconds 300
        [GC]::Collect()
    }
    throw ('reg unload HKU\' + $Mounted[0] + ' failed')
}

# ---- collection ----

function Write-CzOfflineClasses($User, $Bounds) {
    $what = 'classes of ' + $User.Name + ' (' + $User.Sid + ', UsrClass.dat)'
    if (Test-CzLate) { Write-CzTrunc ($what + ' not read') 'time limit'; return }
    $mounted = $null
    try { $mounted = Mount-CzClassHive $User } catch { Write-CzTrunc ($what + ' not read: ' + $_.Exception.Message) 'hive not loadable'; return }
    try {
        $root = [Microsoft.Win32.Registry]::Users.OpenSubKey($mounted[0], $false)
        try { Write-CzClassCommands $root $User.Sid $mounted[2] $Bounds 'Software\Classes' } finally { if ($null -ne $root) { $root.Close() } }
    } catch {
        Write-CzTrunc ($what + ': ' + $_.Exception.Message) 'error'
    } finally {
        try { Dismount-CzHive $mounted } catch { Write-CzTrunc ($what + ': ' + $_.Exception.Message) 'hive left loaded' }
    }
}

function Write-CzStartupFolder([string]$Dir, [string]$UserSid, $Bounds) {
    if (-not [System.IO.Directory]::Exists($Dir)) { return }
    $entries = [System.IO.Directory]::GetFileSystemEntries($Dir)
    [Array]::Sort($entries, [StringComparer]::OrdinalIgnoreCase)
    $max = [int]$Bounds.max_listing
    if ($entries.Count -gt $max) {
        Write-CzTrunc ('startup folder ' + $Dir) ([string]$max + ' entries')
        $entries = $entries[0..($max - 1)]
    }
    foreach ($path in $entries) {
        if ([System.IO.Directory]::Exists($path)) { continue }
        $command = $path
        $type = 'FILE'
        if ($path.EndsWith('.lnk', [StringComparison]::OrdinalIgnoreCase)) {
            try {
                $lnk = $script:czShell.CreateShortcut($path)
                $target = [string]$lnk.TargetPath
                if ($target.Contains(' ')) { $target = '"' + $target + '"' }
                $command = $target
                if ([string]$lnk.Arguments -ne '') { $command = $target + ' ' + [string]$lnk.Arguments }
                $type = 'LNK'
            } catch { }
        }
        Write-CzRecord 'autorun' @('kind', 'startup', 'path', $path, 'user_sid', $UserSid, 'command', $command, 'value_type', $type)
    }
}

function Get-CzStartName([string]$Mode) {
    switch ($Mode) {
        'Auto' { return 'auto' }
        'Manual' { return 'demand' }
        'Disabled' { return 'disabled' }
        'Boot' { return 'boot' }
        'System' { return 'system' }
    }
    return $Mode.ToLower()
}

# Parameters\ServiceDll of a service (else ServiceDll on its own key), as
# stored; '' when none.
function Get-CzServiceDll([string]$Name) {
    $base = 'SYSTEM\CurrentControlSet\Services\' + $Name
    foreach ($rel in @(($base + '\Parameters'), $base)) {
        $key = Open-CzKey ([Microsoft.Win32.Registry]::LocalMachine) $rel
        if ($null -eq $key) { continue }
        try {
            foreach ($n in $key.GetValueNames()) {
                if (Test-CzSameName $n 'ServiceDll') { return (Get-CzRegValue $key $n -1)[1] }
            }
        } finally { $key.Close() }
    }
    return ''
}

function Write-CzServices {
    foreach ($s in @(Get-WmiObject -Class Win32_Service -ErrorAction Stop)) {
        Write-CzRecord 'service' @('name', $s.Name, 'display_name', $s.DisplayName, 'image_path', $s.PathName, 'start_type', (Get-CzStartName ([string]$s.StartMode)), 'state', ([string]$s.State).ToLower(), 'account', $s.StartName, 'service_dll', (Get-CzServiceDll ([string]$s.Name)))
    }
}

# Kernel and file-system drivers: Win32_Service leaves them out, and a
# rootkit loader installs one. PathName is the driver file as WMI
# resolves it.
function Write-CzDrivers {
    foreach ($s in @(Get-WmiObject -Class Win32_SystemDriver -ErrorAction Stop)) {
        Write-CzRecord 'service' @('name', $s.Name, 'display_name', $s.DisplayName, 'image_path', $s.PathName, 'start_type', (Get-CzStartName ([string]$s.StartMode)), 'state', ([string]$s.State).ToLower(), 'account', $s.StartName, 'service_dll', '', 'driver', '1')
    }
}

function Get-CzTriggerName($Trigger) {
    $names = @{ 0 = 'event'; 1 = 'once'; 2 = 'daily'; 3 = 'weekly'; 4 = 'monthly'; 5 = 'monthlydow'; 6 = 'idle'; 7 = 'registration'; 8 = 'boot'; 9 = 'logon'; 11 = 'session' }
    $name = $names[[int]$Trigger.Type]
    if ($null -eq $name) { $name = 'type ' + [string]$Trigger.Type }
    try {
        $interval = [string]$Trigger.Repetition.Interval
        if ($interval -ne '') { $name = $name + ' repeat ' + $interval }
    } catch { }
    return $name
}

# Every task of every folder, walked with a queue (recursion can reach
# PowerShell 2.0's call-depth limit of 100 on a crafted tree); a task or a
# folder that cannot be read is reported and the walk goes on.
function Write-CzTasks($Root, $Bounds) {
    $queue = New-Object System.Collections.Queue
    $queue.Enqueue($Root)
    $folders = 0
    while ($queue.Count -gt 0) {
        $folder = $queue.Dequeue()
        $folders++
        if ($folders -gt [int]$Bounds.max_items) { Write-CzTrunc 'task folders' ([string]$Bounds.max_items + ' folders'); return }
        $fpath = ''
        try { $fpath = [string]$folder.Path } catch { }
        if (Test-CzLate) { Write-CzTrunc ('tasks under ' + $fpath) 'time limit'; return }
        $tasks = @()
        try { $tasks = @($folder.GetTasks(1)) } catch { Write-CzTrunc ('tasks of folder ' + $fpath + ' not read: ' + $_.Exception.Message) 'error' }
        foreach ($t in $tasks) {
            $tpath = ''
            try { $tpath = [string]$t.Path; Write-CzTask $t } catch { Write-CzTrunc ('task ' + $tpath + ' in ' + $fpath + ' not read: ' + $_.Exception.Message) 'error' }
        }
        try { foreach ($sub in @($folder.GetFolders(0))) { $queue.Enqueue($sub) } } catch { Write-CzTrunc ('folders under ' + $fpath + ' not read: ' + $_.Exception.Message) 'error' }
    }
}

function Write-CzTask($t) {
    $f = New-Object System.Collections.ArrayList
    $def = $t.Definition
    $principal = [string]$def.Principal.UserId
    if ($principal -eq '') { $principal = [string]$def.Principal.GroupId }
    $enabled = '0'; if ($t.Enabled) { $enabled = '1' }
    $hidden = '0'; if ($def.Settings.Hidden) { $hidden = '1' }
    [void]$f.AddRange(@('path', [string]$t.Path, 'author', [string]$def.RegistrationInfo.Author, 'principal', $principal, 'enabled', $enabled, 'hidden', $hidden))
    foreach ($tr in @($def.Triggers)) { [void]$f.AddRange(@('trigger', (Get-CzTriggerName $tr))) }
    foreach ($a in @($def.Actions)) {
        if ([int]$a.Type -eq 0) {
            [void]$f.AddRange(@('action_path', [string]$a.Path, 'action_arguments', [string]$a.Arguments, 'action_working_directory', [string]$a.WorkingDirectory))
        } elseif ([int]$a.Type -eq 5) {
            [void]$f.AddRange(@('action_path', ('COM ' + [string]$a.ClassId), 'action_arguments', [string]$a.Data, 'action_working_directory', ''))
        }
    }
    Write-CzRecord 'task' $f.ToArray()
}

function Get-CzConsumerAction($C) {
    if ($null -eq $C) { return '' }
    if ([string]$C.__CLASS -eq 'CommandLineEventConsumer') {
        if ([string]$C.CommandLineTemplate -ne '') { return [string]$C.CommandLineTemplate }
        return [string]$C.ExecutablePath
    }
    if ([string]$C.__CLASS -eq 'ActiveScriptEventConsumer') {
        if ([string]$C.ScriptText -ne '') { return [string]$C.ScriptText }
        return [string]$C.ScriptFileName
    }
    return ''
}

# The Name="..." of a WMI relative path, unescaped.
function Get-CzRelName([string]$Rel) {
    $i = $Rel.IndexOf('Name="')
    if ($i -lt 0) { return '' }
    $inner = $Rel.Substring($i + 6)
    if ($inner.EndsWith('"')) { $inner = $inner.Substring(0, $inner.Length - 1) }
    return $inner.Replace('\"', '"').Replace('\\', '\')
}

function Test-CzRelEnd([string]$Path, [string]$Rel) {
    return $Path.EndsWith($Rel, [StringComparison]::OrdinalIgnoreCase)
}

function Write-CzWmi {
    $ns = 'root\subscription'
    $filters = @(Get-WmiObject -Namespace $ns -Class __EventFilter -ErrorAction Stop)
    $consumers = @(Get-WmiObject -Namespace $ns -Class __EventConsumer -ErrorAction Stop)
    $bindings = @(Get-WmiObject -Namespace $ns -Class __FilterToConsumerBinding -ErrorAction Stop)
    $bound = New-Object System.Collections.ArrayList
    foreach ($b in $bindings) {
        $f = $null; $c = $null
        foreach ($x in $filters) { if (Test-CzRelEnd ([string]$b.Filter) ([string]$x.__RELPATH)) { $f = $x } }
        foreach ($x in $consumers) { if (Test-CzRelEnd ([string]$b.Consumer) ([string]$x.__RELPATH)) { $c = $x } }
        $fname = Get-CzRelName ([string]$b.Filter); $query = ''
        if ($null -ne $f) { $fname = [string]$f.Name; $query = [string]$f.Query }
        $cname = Get-CzRelName ([string]$b.Consumer)
        $ctype = ([string]$b.Consumer).Split(':')[-1].Split('.')[0]
        if ($null -ne $c) { $cname = [string]$c.Name; $ctype = [string]$c.__CLASS; [void]$bound.Add([string]$c.__RELPATH) }
        Write-CzRecord 'wmi' @('filter_name', $fname, 'query', $query, 'consumer_name', $cname, 'consumer_type', $ctype, 'action', (Get-CzConsumerAction $c))
    }
    foreach ($c in $consumers) {
        if ($bound -contains [string]$c.__RELPATH) { continue }
        Write-CzRecord 'wmi' @('filter_name', '', 'query', '', 'consumer_name', [string]$c.Name, 'consumer_type', [string]$c.__CLASS, 'action', (Get-CzConsumerAction $c))
    }
}

function Write-CzProcesses {
    foreach ($p in @(Get-WmiObject -Class Win32_Process -ErrorAction Stop)) {
        $image = [string]$p.ExecutablePath
        if ($image -eq '') { $image = [string]$p.Name }
        $user = ''
        try {
            $o = $p.GetOwner()
            if ($o.ReturnValue -eq 0) { $user = [string]$o.Domain + '\' + [string]$o.User }
        } catch { }
        $started = ''
        if ([string]$p.CreationDate -ne '') {
            try { $started = Format-CzTime ([System.Management.ManagementDateTimeConverter]::ToDateTime($p.CreationDate)) } catch { }
        }
        Write-CzRecord 'process' @('pid', [string]$p.ProcessId, 'parent_pid', [string]$p.ParentProcessId, 'image', $image, 'command_line', [string]$p.CommandLine, 'user', $user, 'started', $started)
    }
}

function Write-CzSystem32($Bounds) {
    $dir = [Environment]::GetFolderPath('System')
    $names = New-Object System.Collections.ArrayList
    foreach ($path in [System.IO.Directory]::GetFiles($dir)) {
        $n = [System.IO.Path]::GetFileName($path).ToLower()
        if ($n.EndsWith('.exe') -or $n.EndsWith('.dll')) { [void]$names.Add($n.Substring(0, $n.Length - 4)) }
    }
    $names.Sort([StringComparer]::Ordinal)
    $max = [int]$Bounds.max_items
    if ($names.Count -gt $max) {
        Write-CzTrunc 'names in C:\Windows\System32' ([string]$max + ' names')
        $names.RemoveRange($max, $names.Count - $max)
    }
    $f = New-Object System.Collections.ArrayList
    foreach ($n in $names) { [void]$f.AddRange(@('name', $n)) }
    Write-CzRecord 'sys32' $f.ToArray()
}

# What the host serves, for containment's exemptions (a domain controller,
# a file or print server keeps SMB): its domain role
# (Win32_ComputerSystem.DomainRole: 0 and 1 a workstation, 2 and 3 a
# server, 4 and 5 a domain controller), the folders it shares (the value
# names of LanmanServer\Shares: the shares a person or a role made, kept
# across restarts; the administrative ones, C$, ADMIN$ and IPC$, are made
# by the Server service at each start and are not there) and the printers
# it shares (the spooler's Printers keys whose Attributes carry
# PRINTER_ATTRIBUTE_SHARED, 0x8, by their `Share Name`). Registry and WMI
# only: no cmdlet of Windows 8 or later. A part that cannot be read is
# left empty and reported.
function Write-CzServes($Bounds) {
    $role = ''
    try {
        foreach ($cs in @(Get-WmiObject -Class Win32_ComputerSystem -ErrorAction Stop)) { $role = [string]$cs.DomainRole }
    } catch { Write-CzTrunc ('domain role not read: ' + $_.Exception.Message) 'error' }
    $f = New-Object System.Collections.ArrayList
    [void]$f.AddRange(@('domain_role', $role))
    $lm = [Microsoft.Win32.Registry]::LocalMachine
    $key = Open-CzKey $lm 'SYSTEM\CurrentControlSet\Services\LanmanServer\Shares'
    if ($null -ne $key) {
        try {
            foreach ($n in (Get-CzValueNames $key 'HKLM\SYSTEM\CurrentControlSet\Services\LanmanServer\Shares' $Bounds)) {
                if ([string]$n -ne '') { [void]$f.AddRange(@('share', [string]$n)) }
            }
        } finally { $key.Close() }
    }
    $printers = 'SYSTEM\CurrentControlSet\Control\Print\Printers'
    foreach ($n in (Get-CzSubKeyNames $lm $printers)) {
        $key = Open-CzKey $lm ($printers + '\' + $n)
        if ($null -eq $key) { continue }
        try {
            $a = $key.GetValue('Attributes')
            if ($null -ne $a -and ([int64]$a -band 8) -ne 0) {
                $share = [string]$key.GetValue('Share Name')
                if ($share -eq '') { $share = [string]$n }
                [void]$f.AddRange(@('printer', $share))
            }
        } finally { $key.Close() }
    }
    Write-CzRecord 'serves' $f.ToArray()
}

# Run one part of the collection; a failure is reported, never silent.
function Invoke-CzPart([string]$What, [scriptblock]$Part) {
    if (Test-CzLate) { Write-CzTrunc ($What + ' not read') 'time limit'; return }
    try { & $Part } catch { Write-CzTrunc ($What + ' not read: ' + $_.Exception.Message) 'error' }
}

function Invoke-CzCollect($Bounds) {
    $caption = ''; $build = ''
    try {
        $os = Get-WmiObject -Class Win32_OperatingSystem -ErrorAction Stop
        $caption = [string]$os.Caption; $build = [string]$os.BuildNumber
    } catch { $caption = [Environment]::OSVersion.VersionString; $build = [string][Environment]::OSVersion.Version.Build }
    $serial = ''
    try {
        $drive = [string]$env:SystemDrive
        foreach ($d in @(Get-WmiObject -Class Win32_LogicalDisk -ErrorAction Stop)) {
            if ([string]$d.DeviceID -eq $drive) { $serial = [string][Convert]::ToUInt32([string]$d.VolumeSerialNumber, 16) }
        }
    } catch { }
    Write-CzRecord 'host' @('computer_name', [Environment]::MachineName, 'os_caption', $caption, 'os_build', $build, 'ps_version', $PSVersionTable.PSVersion.ToString(), 'collected_at', [DateTime]::UtcNow.ToString('o'), 'volume_serial', $serial)
    Invoke-CzPart 'what the host serves' { Write-CzServes $Bounds }
    $profiles = Get-CzProfiles
    foreach ($p in $profiles) {
        $base = $p.Path
        $on = '0'; if ($p.LoggedOn) { $on = '1' }
        Write-CzRecord 'user' @('name', $p.Name, 'sid', $p.Sid, 'profile_path', $base, 'appdata', ($base + '\AppData\Roaming'), 'local_appdata', ($base + '\AppData\Local'), 'temp', ($base + '\AppData\Local\Temp'), 'logged_on', $on)
    }
    Invoke-CzPart 'HKLM autoruns' { Write-CzHiveAutoruns ([Microsoft.Win32.Registry]::LocalMachine) 'HKLM' '' $Bounds }
    foreach ($p in $profiles) {
        if (Test-CzLate) { Write-CzTrunc ('user hive of ' + $p.Name + ' (' + $p.Sid + ') not read') 'time limit'; continue }
        $mounted = $null
        try {
            $mounted = Mount-CzHive $p
        } catch {
            Write-CzTrunc ('user hive of ' + $p.Name + ' (' + $p.Sid + ') not read: ' + $_.Exception.Message) 'hive not loadable'
            continue
        }
        try {
            $root = [Microsoft.Win32.Registry]::Users.OpenSubKey($mounted[0], $false)
            try {
                Write-CzHiveAutoruns $root $p.Sid $p.Sid $Bounds
                if ($p.LoggedOn) { Write-CzClassCommands $root $p.Sid 'Software\Classes' $Bounds }
                Write-CzUserResidue $root $p.Sid $Bounds
            } finally { if ($null -ne $root) { $root.Close() } }
        } catch {
            Write-CzTrunc ('user hive of ' + $p.Name + ' (' + $p.Sid + '): ' + $_.Exception.Message) 'error'
        } finally {
            try { Dismount-CzHive $mounted } catch { Write-CzTrunc ('user hive of ' + $p.Name + ' (' + $p.Sid + '): ' + $_.Exception.Message) 'hive left loaded' }
        }
        # A user who is not logged on: their classes from UsrClass.dat.
        if (-not $p.LoggedOn) { Write-CzOfflineClasses $p $Bounds }
    }
    Invoke-CzPart 'service account hives' {
        foreach ($sid in $script:czServiceSids) {
            $root = Open-CzKey ([Microsoft.Win32.Registry]::Users) $sid
            if ($null -eq $root) { continue }
            try {
                Write-CzHiveAutoruns $root $sid $sid $Bounds
                Write-CzClassCommands $root $sid 'Software\Classes' $Bounds
            } finally { $root.Close() }
        }
    }
    Invoke-CzPart 'HKLM class commands' { Write-CzClassCommands ([Microsoft.Win32.Registry]::LocalMachine) 'HKLM' 'SOFTWARE\Classes' $Bounds }
    Invoke-CzPart 'startup folders' {
        $script:czShell = New-Object -ComObject WScript.Shell
        foreach ($p in $profiles) {
            Write-CzStartupFolder ($p.Path + '\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup') $p.Sid $Bounds
        }
        Write-CzStartupFolder ([Environment]::ExpandEnvironmentVariables('%ProgramData%') + '\Microsoft\Windows\Start Menu\Programs\StartUp') '' $Bounds
    }
    Invoke-CzPart 'services' { Write-CzServices }
    Invoke-CzPart 'drivers' { Write-CzDrivers }
    Invoke-CzPart 'scheduled tasks' {
        $svc = New-Object -ComObject Schedule.Service
        $svc.Connect()
        Write-CzTasks ($svc.GetFolder('\')) $Bounds
    }
    Invoke-CzPart 'WMI subscriptions' { Write-CzWmi }
    Invoke-CzPart 'processes' { Write-CzProcesses }
    Invoke-CzPart 'Defender exclusions' {
        foreach ($rel in @('SOFTWARE\Microsoft\Windows Defender\Exclusions\Paths', 'SOFTWARE\Microsoft\Windows Defender\Exclusions\Processes')) {
            Write-CzResidueValues ([Microsoft.Win32.Registry]::LocalMachine) 'HKLM' $rel $false $Bounds
        }
    }
    Invoke-CzPart 'System32 names' { Write-CzSystem32 $Bounds }
}

# ---- lateral-movement events ----

# What Windows records when one host reaches another: System 7045 (a
# service was installed), Security 4624 (an account logged on; network
# logons, type 3, and remote interactive ones, type 10, are kept), Security
# 4698 (a task was created, where object-access auditing is on) and Task
# Scheduler Operational 106 (a task was registered, where that log is on).
#
# Read with Get-WinEvent -FilterHashtable: Windows PowerShell 2.0 has it on
# Vista and later with .NET 3.5 (in the box on Windows 7 and Server 2008
# R2), and every later version does. It returns typed records: TimeCreated
# is a DateTime and Properties holds the event's data in its template's
# order, so nothing depends on the display language. `wevtutil qe` is not
# used: its text form is localized, and its XML comes through the
# console's code page, which loses a name outside it. Data are taken by
# position in the template: Windows only appends fields in later versions
# (4624 has 20 on Windows 7, more on 10), so these positions hold on all.
# Each log and event ID is bounded: the newest records, within the last
# days, each text cut to a length (the cut reported).
$script:czEventKinds = @(
    @('System', 7045, 'Service Control Manager', 5),
    @('Security', 4624, '', 20),
    @('Security', 4698, '', 5),
    @('Microsoft-Windows-TaskScheduler/Operational', 106, '', 2)
)

# Why a log could not be read, from the error Get-WinEvent gave: denied
# (Security needs an administrator; Windows wraps the access error in
# another), absent, or failed.
function Get-CzEventFailure($Err) {
    $id = [string]$Err.FullyQualifiedErrorId
    $ex = $Err.Exception
    while ($null -ne $ex) {
        if ($ex.GetType().FullName -eq 'System.UnauthorizedAccessException') { return 'denied' }
        $ex = $ex.InnerException
    }
    if ($id.StartsWith('NoMatchingLogsFound', [StringComparison]::Ordinal)) { return 'absent' }
    if ($id.StartsWith('CommandNotFoundException', [StringComparison]::Ordinal)) { return 'unavailable' }
    return 'failed'
}

# Data field $Index of $Record as text, cut to $Max characters.
function Get-CzEventText($Record, [int]$Index, [int]$Max, [string]$What) {
    $t = ''
    $v = $Record.Properties[$Index].Value
    if ($null -ne $v) { $t = [string]$v }
    if ($t.Length -gt $Max) {
        Write-CzTrunc ($What + ' of a record') ([string]$Max + ' characters')
        $t = $t.Substring(0, $Max)
    }
    return $t
}

function Write-CzEvent([string]$Log, [int]$Id, $Record, [int]$Max) {
    $head = @('log', $Log, 'event_id', [string]$Id, 'record_id', [string]$Record.RecordId, 'at', (Format-CzTime $Record.TimeCreated))
    $what = $Log + ' ' + [string]$Id
    if ($Id -eq 7045) {
        Write-CzRecord 'event' ($head + @('service', (Get-CzEventText $Record 0 $Max ($what + ' ServiceName')), 'image_path', (Get-CzEventText $Record 1 $Max ($what + ' ImagePath')), 'account', (Get-CzEventText $Record 4 $Max ($what + ' AccountName'))))
    } elseif ($Id -eq 4624) {
        $type = Get-CzEventText $Record 8 $Max ($what + ' LogonType')
        if ($type -ne '3' -and $type -ne '10') { return $false }
        $account = (Get-CzEventText $Record 6 $Max ($what + ' TargetDomainName')) + '\' + (Get-CzEventText $Record 5 $Max ($what + ' TargetUserName'))
        Write-CzRecord 'event' ($head + @('source_address', (Get-CzEventText $Record 18 $Max ($what + ' IpAddress')), 'account', $account, 'logon_type', $type))
    } elseif ($Id -eq 4698) {
        $user = (Get-CzEventText $Record 2 $Max ($what + ' SubjectDomainName')) + '\' + (Get-CzEventText $Record 1 $Max ($what + ' SubjectUserName'))
        Write-CzRecord 'event' ($head + @('task', (Get-CzEventText $Record 4 $Max ($what + ' TaskName')), 'user', $user))
    } else {
        Write-CzRecord 'event' ($head + @('task', (Get-CzEventText $Record 0 $Max ($what + ' TaskName')), 'user', (Get-CzEventText $Record 1 $Max ($what + ' UserContext'))))
    }
    return $true
}

# One log and event ID: whether the log is on, then its newest records in
# the window; an `evlog` record says how it went, and when by the host's
# clock (what a record's time is weighed against: the operator's own
# logon is the newest network logon of the last seconds).
function Write-CzEventKind([string]$Log, [int]$Id, [string]$Provider, [int]$Fields, [int]$MaxEvents, [int]$Days, [int]$Max) {
    $state = 'read'; $detail = ''; $records = @()
    try {
        $config = Get-WinEvent -ListLog $Log -ErrorAction Stop
        if (-not $config.IsEnabled) { $state = 'disabled' }
        $filter = @{ LogName = $Log; Id = $Id; StartTime = [DateTime]::Now.AddDays(-$Days) }
        if ($Provider -ne '') { $filter['ProviderName'] = $Provider }
        try {
            $records = @(Get-WinEvent -FilterHashtable $filter -MaxEvents $MaxEvents -ErrorAction Stop)
        } catch {
            if (-not ([string]$_.FullyQualifiedErrorId).StartsWith('NoMatchingEventsFound', [StringComparison]::Ordinal)) { throw }
        }
    } catch {
        $state = Get-CzEventFailure $_
        $detail = $_.Exception.Message
    }
    $oldest = ''
    foreach ($r in $records) {
        if (Test-CzLate) { Write-CzTrunc ($Log + ' ' + [string]$Id + ' records') 'time limit'; break }
        $oldest = Format-CzTime $r.TimeCreated
        $n = 0
        if ($null -ne $r.Properties) { $n = $r.Properties.Count }
        if ($n -lt $Fields) {
            Write-CzTrunc ($Log + ' ' + [string]$Id + ' record ' + [string]$r.RecordId + ' skipped: ' + [string]$n + ' data fields, ' + [string]$Fields + ' expected') 'malformed'
            continue
        }
        [void](Write-CzEvent $Log $Id $r $Max)
    }
    $cut = '0'
    if ($records.Count -ge $MaxEvents) { $cut = '1' }
    Write-CzRecord 'evlog' @('log', $Log, 'event_id', [string]$Id, 'state', $state, 'detail', $detail, 'read', [string]$records.Count, 'cut', $cut, 'oldest', $oldest, 'read_at', [DateTime]::UtcNow.ToString('o'))
}

function Invoke-CzEvents($Op) {
    $max = [int](Get-CzField $Op 'max_per_kind')
    $days = [int](Get-CzField $Op 'days')
    $chars = [int](Get-CzField $Op 'max_text_chars')
    foreach ($k in $script:czEventKinds) {
        if (Test-CzLate) { Write-CzTrunc ($k[0] + ' ' + [string]$k[1] + ' not read') 'time limit'; continue }
        Write-CzEventKind $k[0] $k[1] $k[2] $k[3] $max $days $chars
    }
}

# ---- files ----

function Open-CzRead([string]$Path) {
    $share = [System.IO.FileShare]::ReadWrite -bor [System.IO.FileShare]::Delete
    return New-Object System.IO.FileStream($Path, [System.IO.FileMode]::Open, [System.IO.FileAccess]::Read, $share)
}

function Get-CzSha256([string]$Path) {
    $stream = Open-CzRead $Path
    try {
        $sha = [System.Security.Cryptography.SHA256]::Create()
        return (ConvertTo-CzHex ($sha.ComputeHash($stream)) -1)
    } finally { $stream.Close() }
}

# The long form of a path (8.3 short names such as MICROS~1 expanded) as
# GetLongPathName gives it; the path itself when it cannot.
function Get-CzLongPath([string]$Path) {
    Initialize-CzNative
    $sb = New-Object System.Text.StringBuilder 32768
    $n = [CauterizeNative]::GetLongPathName($Path, $sb, [uint32]$sb.Capacity)
    if ($n -eq 0 -or $n -ge $sb.Capacity) { return $Path }
    return $sb.ToString()
}

function Write-CzFileFact([string]$Path, [bool]$List, $Bounds) {
    Write-CzEntryFact $Path $List $true ([long]$Bounds.max_hash_bytes) $Bounds
}

# Facts of one path: existence and times; a folder's entry count (and its
# names when $List); a file's size, and when $Deep its SHA-256 (up to
# $MaxHash bytes, the cut reported) and signature. A path holding a '~'
# also reports its long form when that differs.
function Write-CzEntryFact([string]$Path, [bool]$List, [bool]$Deep, [long]$MaxHash, $Bounds) {
    $exists = $false; $isDir = $false
    try {
        $isDir = [System.IO.Directory]::Exists($Path)
        $exists = $isDir -or [System.IO.File]::Exists($Path)
    } catch { }
    if (-not $exists) { Write-CzRecord 'file' @('path', $Path, 'exists', '0', 'is_dir', '0'); return }
    $long = ''
    if ($Path.Contains('~')) {
        try { $long = Get-CzLongPath $Path } catch { }
        if ($long -ceq $Path) { $long = '' }
    }
    if ($isDir) {
        $di = New-Object System.IO.DirectoryInfo($Path)
        $names = New-Object System.Collections.ArrayList
        foreach ($e in [System.IO.Directory]::GetFileSystemEntries($Path)) { [void]$names.Add([System.IO.Path]::GetFileName($e)) }
        $names.Sort([StringComparer]::OrdinalIgnoreCase)
        $f = New-Object System.Collections.ArrayList
        [void]$f.AddRange(@('path', $Path, 'long_path', $long, 'exists', '1', 'is_dir', '1', 'created', (Format-CzTime $di.CreationTimeUtc), 'modified', (Format-CzTime $di.LastWriteTimeUtc), 'entries', [string]$names.Count))
        $max = [int]$Bounds.max_listing
        if ($List) {
            $n = 0
            foreach ($name in $names) { if ($n -ge $max) { break }; [void]$f.AddRange(@('entry', $name)); $n++ }
        }
        Write-CzRecord 'file' $f.ToArray()
        if ($List -and $names.Count -gt $max) { Write-CzTrunc ('listing of ' + $Path) ([string]$max + ' entries') }
        return
    }
    $fi = New-Object System.IO.FileInfo($Path)
    $sha = ''
    $sig = 'unknown'; $signer = ''; $original = ''
    if ($Deep) {
        if ($fi.Length -gt $MaxHash) {
            Write-CzTrunc ('hash of ' + $Path + ' (' + $fi.Length + ' bytes)') ([string]$MaxHash + ' bytes')
        } elseif (Test-CzLate) {
            Write-CzTrunc ('hash of ' + $Path) 'time limit'
        } else {
            try { $sha = Get-CzSha256 $Path } catch { Write-CzTrunc ('hash of ' + $Path + ': ' + $_.Exception.Message) 'unreadable' }
        }
        $s = Get-CzSignature $Path
        $sig = $s[0]; $signer = $s[1]
        $original = Get-CzOriginalName $Path
    }
    Write-CzRecord 'file' @('path', $Path, 'long_path', $long, 'exists', '1', 'is_dir', '0', 'size', [string]$fi.Length, 'sha256', $sha, 'created', (Format-CzTime $fi.CreationTimeUtc), 'modified', (Format-CzTime $fi.LastWriteTimeUtc), 'signature', $sig, 'signer', $signer, 'original_name', $original)
}

# The original file name of a file's version information (OriginalFilename:
# RUNDLL32.EXE for a renamed copy of rundll32, whatever its name now); ''
# when it has none (not a PE image; .NET Framework gives $null there) or it
# cannot be read.
function Get-CzOriginalName([string]$Path) {
    try { return ([string]([System.Diagnostics.FileVersionInfo]::GetVersionInfo($Path).OriginalFilename)).Trim() } catch { return '' }
}

# @(status, signer) of a file's Authenticode signature.
function Get-CzSignature([string]$Path) {
    $sig = 'unknown'; $signer = ''
    try {
        # PowerShell 2.0 has only -FilePath, which takes wildcards: escape them.
        if ((Get-Command Get-AuthenticodeSignature).Parameters.ContainsKey('LiteralPath')) {
            $a = Get-AuthenticodeSignature -LiteralPath $Path -ErrorAction Stop
        } else {
            $a = Get-AuthenticodeSignature -FilePath ($Path.Replace('`', '``').Replace('[', '`[').Replace(']', '`]')) -ErrorAction Stop
        }
        switch ([string]$a.Status) {
            'Valid' { $sig = 'valid' }
            'NotSigned' { $sig = 'unsigned' }
            'HashMismatch' { $sig = 'invalid' }
            'NotTrusted' { $sig = 'invalid' }
            'NotSupportedFileFormat' { $sig = 'unsigned' }
        }
        if ($null -ne $a.SignerCertificate) { $signer = $a.SignerCertificate.GetNameInfo([System.Security.Cryptography.X509Certificates.X509NameType]::SimpleName, $false) }
    } catch { }
    return @($sig, $signer)
}

# ---- the drop-folder sweep ----

# One more entry for this root, or the cut reported (once) and $false.
function Test-CzSweepRoom($Root) {
    if ($Root.Left -le 0) {
        if (-not $Root.Stopped) { Write-CzTrunc ('sweep of ' + $Root.Path) ([string]$Root.Max + ' entries') }
        $Root.Stopped = $true
        return $false
    }
    $Root.Left = $Root.Left - 1
    return $true
}

# The entries of one folder, by name (ordinal, case ignored); folders
# entered while $Level is below the root's depth (never a reparse point).
function Invoke-CzSweepDir($Root, [string]$Dir, [int]$Level, $Bounds) {
    if ($Root.Stopped) { return }
    if (Test-CzLate) { Write-CzTrunc ('sweep of ' + $Dir) 'time limit'; $Root.Stopped = $true; return }
    $infos = $null
    try { $infos = (New-Object System.IO.DirectoryInfo($Dir)).GetFileSystemInfos() } catch { Write-CzTrunc ('sweep of ' + $Dir + ': ' + $_.Exception.Message) 'unreadable'; return }
    $names = New-Object string[] $infos.Length
    for ($i = 0; $i -lt $infos.Length; $i++) { $names[$i] = $infos[$i].Name }
    [Array]::Sort($names, $infos, [StringComparer]::OrdinalIgnoreCase)
    foreach ($fi in $infos) {
        $path = [System.IO.Path]::Combine($Dir, $fi.Name)
        $skipped = $Root.Skip.ContainsKey($path.ToLower())
        if (($fi.Attributes -band [System.IO.FileAttributes]::Directory) -ne 0) {
            if (-not $Root.Filtered -and -not $skipped) {
                if (-not (Test-CzSweepRoom $Root)) { return }
                Write-CzEntryFact $path $false $false 0 $Bounds
            }
            $link = (($fi.Attributes -band [System.IO.FileAttributes]::ReparsePoint) -ne 0)
            if ($Level -lt $Root.Depth -and -not $link) { Invoke-CzSweepDir $Root $path ($Level + 1) $Bounds }
            if ($Root.Stopped) { return }
            continue
        }
        $ext = $fi.Extension.TrimStart('.').ToLower()
        if ($Root.Ext.Count -gt 0 -and -not $Root.Ext.ContainsKey($ext)) { continue }
        if ($null -ne $Root.Since -and $fi.LastWriteTimeUtc -lt $Root.Since -and $fi.CreationTimeUtc -lt $Root.Since) { continue }
        if ($skipped) { continue }
        if (-not (Test-CzSweepRoom $Root)) { return }
        Write-CzEntryFact $path $false ($Root.HashExt.ContainsKey($ext)) $Root.MaxHash $Bounds
    }
}

function Invoke-CzSweep($Op, $Bounds) {
    $hashExt = @{}
    foreach ($e in (Get-CzFields $Op 'hash_extension')) { $hashExt[([string]$e).ToLower()] = $true }
    $skip = @{}
    foreach ($p in (Get-CzFields $Op 'skip')) { $skip[([string]$p).ToLower()] = $true }
    $max = [int](Get-CzField $Op 'max_entries')
    $maxHash = [long](Get-CzField $Op 'sweep_hash_bytes')
    $paths = Get-CzFields $Op 'root_path'
    $depths = Get-CzFields $Op 'root_depth'
    $exts = Get-CzFields $Op 'root_extensions'
    $days = Get-CzFields $Op 'root_recent_days'
    for ($i = 0; $i -lt $paths.Count; $i++) {
        $root = @{ Path = [string]$paths[$i]; Depth = [int]$depths[$i]; Ext = @{}; Since = $null; Max = $max; Left = $max; Stopped = $false; HashExt = $hashExt; MaxHash = $maxHash; Skip = $skip }
        foreach ($e in ([string]$exts[$i]).Split([char]44)) { if ($e -ne '') { $root.Ext[$e.ToLower()] = $true } }
        if ([int]$days[$i] -gt 0) { $root.Since = [DateTime]::UtcNow.AddDays(-([int]$days[$i])) }
        $root.Filtered = ($root.Ext.Count -gt 0 -or $null -ne $root.Since)
        if (-not [System.IO.Directory]::Exists($root.Path)) { continue }
        Invoke-CzSweepDir $root $root.Path 0 $Bounds
    }
}

function Invoke-CzFileFacts($Op, $Bounds) {
    $done = @{}
    $dirs = Get-CzFields $Op 'list_dir'
    foreach ($p in (Get-CzFields $Op 'path')) {
        if (Test-CzLate) { Write-CzTrunc ('file facts from ' + $p) 'time limit'; return }
        $list = $false
        foreach ($d in $dirs) { if ($d -eq $p) { $list = $true } }
        Write-CzFileFact $p $list $Bounds
        $done[$p.ToLower()] = $true
    }
    foreach ($d in $dirs) {
        if ($done.ContainsKey($d.ToLower())) { continue }
        if (Test-CzLate) { Write-CzTrunc ('listings from ' + $d) 'time limit'; return }
        Write-CzFileFact $d $true $Bounds
        $done[$d.ToLower()] = $true
    }
}

function Invoke-CzReadFile($Op) {
    $path = Get-CzField $Op 'path'
    $offset = [long](Get-CzField $Op 'offset')
    $max = [int](Get-CzField $Op 'max_bytes')
    $stream = Open-CzRead $path
    try {
        $size = $stream.Length
        $start = [Math]::Min($offset, $size)
        $want = [int][Math]::Min([long]$max, $size - $start)
        $buf = New-Object byte[] $want
        [void]$stream.Seek($start, [System.IO.SeekOrigin]::Begin)
        $got = 0
        while ($got -lt $want) {
            $n = $stream.Read($buf, $got, $want - $got)
            if ($n -le 0) { break }
            $got += $n
        }
        if ($got -lt $want) { $short = New-Object byte[] $got; [Array]::Copy($buf, $short, $got); $buf = $short }
        $eof = '0'; if ($start + $got -eq $size) { $eof = '1' }
        Write-CzRecord 'chunk' @('path', $path, 'offset', [string]$offset, 'size', [string]$size, 'data', $buf, 'eof', $eof)
    } finally { $stream.Close() }
}

# ---- registry values asked for by name (pass two) ----

# One value as a reg record, its data within what $Budget.Left (characters
# of data still allowed for this item) allows: binary data as hex of at
# most half of it, text cut to it; the cut marked and reported once.
function Write-CzBudgetedValue($Key, [string]$Hive, [string]$Shown, [string]$Name, $Budget) {
    $v = Get-CzRegValue $Key $Name ([int][Math]::Min([long][int]::MaxValue, [Math]::Max([long]0, [long]($Budget.Left / 2))))
    if ($v[1].Length -gt $Budget.Left) {
        $v[1] = $v[1].Substring(0, [int][Math]::Max([long]0, $Budget.Left))
        $v[2] = $true
    }
    if ($v[2] -and -not $Budget.Reported) {
        Write-CzTrunc ('data of registry values from ' + $Hive + '\' + $Shown + '\' + $Name + ' on') ([string]$Budget.Max + ' bytes')
        $Budget.Reported = $true
    }
    $Budget.Left -= $v[1].Length
    Write-CzRegRecord $Hive $Shown $Name $v
}

# Every value of $Key and of the keys under it, as reg records named under
# $Shown: what a whole-key delete digests (Add-CzKeyTreeLines), within its
# limits (64 levels, 10000 values; past them the cut is reported, and the
# delete will refuse the key). Walked with a queue: no deep recursion.
function Write-CzKeyTree($Key, [string]$Hive, [string]$Shown, $Budget) {
    $queue = New-Object System.Collections.Queue
    $queue.Enqueue(@($Key, $Shown, 0))
    $count = 0; $full = $false
    while ($queue.Count -gt 0) {
        $at = $queue.Dequeue()
        $k = $at[0]
        try {
            if ($full) { continue }
            if (Test-CzLate) { Write-CzTrunc ('values of ' + $Hive + '\' + $at[1]) 'time limit'; $full = $true; continue }
            foreach ($n in $k.GetValueNames()) {
                if ($count -ge 10000) { Write-CzTrunc ('values of the key ' + $Hive + '\' + $Shown) '10000 values'; $full = $true; break }
                Write-CzBudgetedValue $k $Hive $at[1] $n $Budget
                $count++
            }
            if ($full) { continue }
            $subs = $k.GetSubKeyNames()
            if ($subs.Count -gt 0 -and $at[2] -ge 64) { Write-CzTrunc ('keys under ' + $Hive + '\' + $at[1]) '64 levels'; continue }
            foreach ($c in $subs) {
                $child = Open-CzKey $k $c
                if ($null -ne $child) { $queue.Enqueue(@($child, ($at[1] + '\' + $c), ($at[2] + 1))) }
            }
        } finally { if ($at[2] -gt 0) { $k.Close() } }
    }
}

function Invoke-CzRegistryValues($Op, $Bounds) {
    $hives = Get-CzFields $Op 'read_hive'
    $keys = Get-CzFields $Op 'read_key'
    $values = Get-CzFields $Op 'read_value'
    $trees = Get-CzFields $Op 'read_tree'
    $budget = @{ Left = [long]$Bounds.max_field_bytes; Max = [long]$Bounds.max_field_bytes; Reported = $false }
    for ($i = 0; $i -lt $hives.Count; $i++) {
        $hive = [string]$hives[$i]; $rel = [string]$keys[$i]; $want = [string]$values[$i]
        if (Test-CzLate) { Write-CzTrunc ('registry values from ' + $hive + '\' + $rel) 'time limit'; return }
        $at = $null
        try { $at = Enter-CzOpHive $hive $rel } catch { Write-CzTrunc ('registry ' + $hive + '\' + $rel + ' not read: ' + $_.Exception.Message) 'hive not loadable'; continue }
        try {
            $key = Open-CzKey $at[0] $at[1]
            if ($null -eq $key) { continue }
            try {
                if ([string]$trees[$i] -eq '1') {
                    Write-CzKeyTree $key $hive $rel $budget
                    continue
                }
                # The stored name; '(default)' also finds the unnamed value.
                $found = $null
                foreach ($n in $key.GetValueNames()) { if (Test-CzSameName $n $want) { $found = $n } }
                if ($null -eq $found -and (Test-CzSameName $want '(default)')) {
                    foreach ($n in $key.GetValueNames()) { if ($n.Length -eq 0) { $found = $n } }
                }
                if ($null -ne $found) { Write-CzBudgetedValue $key $hive $rel $found $budget }
            } finally { $key.Close() }
        } finally { Exit-CzOpHive $hive $at[2] }
    }
}

# ---- compare-and-delete operations ----

function Write-CzOutcome([string]$Result, [string]$Detail) {
    if ($Detail.Length -gt 1024) { $Detail = $Detail.Substring(0, 1024) }
    Write-CzRecord 'outcome' @('result', $Result, 'detail', $Detail)
}

function Test-CzImage([string]$Image, [string]$Expected) {
    if ($Expected.Contains('\')) { return (Test-CzSameName $Image $Expected) }
    return (Test-CzSameName ([System.IO.Path]::GetFileName($Image)) $Expected)
}

# Open the process first: while this handle is open Windows does not reuse
# its PID, so what WMI says of that PID now (image, CreationDate) is this
# process, and Kill() goes through the same handle (Process caches the
# handle its Handle property opened).
function Invoke-CzKillProcess($Op) {
    $procId = [int](Get-CzField $Op 'pid')
    $expected = Get-CzField $Op 'expected_image'
    $started = Get-CzField $Op 'expected_started'
    $proc = $null
    try { $proc = [System.Diagnostics.Process]::GetProcessById($procId) } catch { }
    if ($null -eq $proc) { Write-CzOutcome 'already_absent' ''; return }
    try {
        try { [void]$proc.Handle } catch { Write-CzOutcome 'failed' ('cannot open pid ' + $procId + ': ' + $_.Exception.Message); return }
        $p = $null
        foreach ($x in @(Get-WmiObject -Class Win32_Process -Filter ('ProcessId = ' + $procId) -ErrorAction Stop)) { $p = $x }
        if ($null -eq $p -or $proc.HasExited) { Write-CzOutcome 'already_absent' ''; return }
        $image = [string]$p.ExecutablePath
        if ($image -eq '') { $image = [string]$p.Name }
        if (-not (Test-CzImage $image $expected)) { Write-CzOutcome 'drift' ('pid ' + $procId + ' runs ' + $image); return }
        $now = ''
        try { $now = Format-CzTime ([System.Management.ManagementDateTimeConverter]::ToDateTime($p.CreationDate)) } catch { }
        # The plan carries the start time whenever the scan saw one.
        if ($started -ne '' -and $now -cne $started) { Write-CzOutcome 'drift' ('pid ' + $procId + ' (' + $image + ') started ' + $now); return }
        try {
            $proc.Kill()
            [void]$proc.WaitForExit(10000)
            Write-CzOutcome 'done' ''
        } catch {
            $gone = $false
            try { $gone = $proc.HasExited } catch { }
            if ($gone) { Write-CzOutcome 'already_absent' '' } else { Write-CzOutcome 'failed' $_.Exception.Message }
        }
    } finally { $proc.Dispose() }
}

# Where an operation's key lives: @(root key, path under it, mounted hive
# or $null). `hive` is HKLM or a SID; a service account's hive is always
# loaded at HKU\<SID>; a user's hive is mounted when they are not logged on
# (their Software\Classes from UsrClass.dat). Throws with the reason; pair
# a mounted hive with Exit-CzOpHive in a finally block.
function Enter-CzOpHive([string]$Hive, [string]$Rel) {
    if ($Hive -eq 'HKLM') { return @([Microsoft.Win32.Registry]::LocalMachine, $Rel, $null) }
    if ($script:czServiceSids -contains $Hive) {
        # SYSTEM, LocalService, NetworkService: always loaded at HKU\<SID>,
        # never in the ProfileList's user profiles.
        return @([Microsoft.Win32.Registry]::Users, ($Hive + '\' + $Rel), $null)
    }
    $p = Get-CzProfile $Hive
    if ($null -eq $p) { throw ('no user profile with SID ' + $Hive) }
    $classes = 'Software\Classes\'
    $inClasses = $Rel.StartsWith($classes, [StringComparison]::OrdinalIgnoreCase)
    # A user who is not logged on keeps Software\Classes in UsrClass.dat,
    # not in NTUSER.DAT: mount that one, and the key is under its root.
    if ($inClasses -and -not $p.LoggedOn) {
        $mounted = Mount-CzClassHive $p
        $Rel = $Rel.Substring($classes.Length)
    } else {
        $mounted = Mount-CzHive $p
    }
    return @([Microsoft.Win32.Registry]::Users, ($mounted[0] + '\' + $Rel), $mounted)
}

function Exit-CzOpHive([string]$Hive, $Mounted) {
    if ($null -eq $Mounted) { return }
    try { Dismount-CzHive $Mounted } catch { Write-CzTrunc ('user hive ' + $Hive + ': ' + $_.Exception.Message) 'hive left loaded' }
}

function Invoke-CzDeleteRegistryValue($Op) {
    $hive = Get-CzField $Op 'hive'
    $name = Get-CzField $Op 'value'
    $etype = Get-CzField $Op 'expected_type'
    $esha = (Get-CzField $Op 'expected_data_sha256').ToLower()
    try { $at = Enter-CzOpHive $hive (Get-CzField $Op 'key') } catch { Write-CzOutcome 'failed' $_.Exception.Message; return }
    try {
        $key = $null
        try { $key = $at[0].OpenSubKey($at[1], $true) } catch { Write-CzOutcome 'failed' $_.Exception.Message; return }
        if ($null -eq $key) { Write-CzOutcome 'already_absent' ''; return }
        try {
            $present = $false
            foreach ($n in $key.GetValueNames()) { if (Test-CzSameName $n $name) { $present = $true } }
            if (-not $present) { Write-CzOutcome 'already_absent' ''; return }
            # The SHA-256 of the whole data, not the text: collection may
            # have shown only part of a large value.
            $v = Get-CzRegValue $key $name -1
            if ($v[0] -cne $etype -or $v[3] -cne $esha) { Write-CzOutcome 'drift' ($v[0] + ' sha256 ' + $v[3] + ' ' + $v[1]); return }
            $key.DeleteValue($name)
            Write-CzOutcome 'done' ''
        } finally { $key.Close() }
    } finally { Exit-CzOpHive $hive $at[2] }
}

function Get-CzTaskActions($Task) {
    $list = New-Object System.Collections.ArrayList
    foreach ($a in @($Task.Definition.Actions)) {
        if ([int]$a.Type -eq 0) {
            [void]$list.Add(@([string]$a.Path, [string]$a.Arguments, [string]$a.WorkingDirectory))
        } elseif ([int]$a.Type -eq 5) {
            [void]$list.Add(@(('COM ' + [string]$a.ClassId), [string]$a.Data, ''))
        }
    }
    return ,$list
}

function Invoke-CzDeleteTask($Op) {
    $path = Get-CzField $Op 'path'
    $count = [int](Get-CzField $Op 'action_count')
    $ep = Get-CzFields $Op 'action_path'
    $ea = Get-CzFields $Op 'action_arguments'
    $ew = Get-CzFields $Op 'action_working_directory'
    $svc = New-Object -ComObject Schedule.Service
    $svc.Connect()
    $i = $path.LastIndexOf('\')
    $folderPath = '\'
    if ($i -gt 0) { $folderPath = $path.Substring(0, $i) }
    $leaf = $path.Substring($i + 1)
    $folder = $null; $task = $null
    try { $folder = $svc.GetFolder($folderPath) } catch { }
    if ($null -ne $folder) {
        foreach ($t in @($folder.GetTasks(1))) { if (Test-CzSameName ([string]$t.Name) $leaf) { $task = $t } }
    }
    if ($null -eq $task) { Write-CzOutcome 'already_absent' ''; return }
    $now = Get-CzTaskActions $task
    $same = ($now.Count -eq $count)
    if ($same) {
        for ($n = 0; $n -lt $count; $n++) {
            if (-not ((Test-CzSameText $now[$n][0] $ep[$n]) -and (Test-CzSameText $now[$n][1] $ea[$n]) -and (Test-CzSameText $now[$n][2] $ew[$n]))) { $same = $false }
        }
    }
    if (-not $same) {
        $parts = @()
        foreach ($a in $now) { $parts += ('[' + $a[0] + '] [' + $a[1] + '] [' + $a[2] + ']') }
        Write-CzOutcome 'drift' ('actions ' + [string]::Join('; ', [string[]]$parts))
        return
    }
    try {
        try { $task.Stop(0) } catch { }
        $folder.DeleteTask($leaf, 0)
        Write-CzOutcome 'done' ''
    } catch { Write-CzOutcome 'failed' $_.Exception.Message }
}

# A service or a driver (Win32_SystemDriver: collection reports both as
# services), with the same StopService and Delete methods.
function Find-CzService([string]$Name) {
    foreach ($class in @('Win32_Service', 'Win32_SystemDriver')) {
        foreach ($s in @(Get-WmiObject -Class $class -ErrorAction Stop)) { if (Test-CzSameName ([string]$s.Name) $Name) { return $s } }
    }
    return $null
}

function Invoke-CzDeleteService($Op) {
    $name = Get-CzField $Op 'name'
    $expected = Get-CzField $Op 'expected_image_path'
    $expectedDll = Get-CzField $Op 'expected_service_dll'
    $s = Find-CzService $name
    if ($null -eq $s) { Write-CzOutcome 'already_absent' ''; return }
    if (-not (Test-CzSameText ([string]$s.PathName) $expected)) { Write-CzOutcome 'drift' ('ImagePath ' + [string]$s.PathName); return }
    # Every svchost service shares its ImagePath: the DLL is what runs.
    $dll = Get-CzServiceDll ([string]$s.Name)
    if (-not (Test-CzSameText $dll $expectedDll)) { Write-CzOutcome 'drift' ('ServiceDll ' + $dll); return }
    if ([string]$s.State -ne 'Stopped') {
        [void]$s.StopService()
        for ($n = 0; $n -lt 20; $n++) {
            Start-Sleep -Milliseconds 500
            $s = Find-CzService $name
            if ($null -eq $s -or [string]$s.State -eq 'Stopped') { break }
        }
    }
    if ($null -eq $s) { Write-CzOutcome 'done' ''; return }
    $r = $s.Delete()
    $code = [int]$r.ReturnValue
    if ($code -eq 0) {
        $after = Find-CzService $name
        if ($null -eq $after) { Write-CzOutcome 'done' '' } else { Write-CzOutcome 'queued_for_reboot' '' }
    } elseif ($code -eq 16) {
        Write-CzOutcome 'queued_for_reboot' ''
    } else {
        Write-CzOutcome 'failed' ('Win32_Service.Delete returned ' + $code)
    }
}

function Invoke-CzDeleteWmiSubscription($Op) {
    $fname = Get-CzField $Op 'filter'
    $cname = Get-CzField $Op 'consumer'
    $ctype = Get-CzField $Op 'consumer_type'
    $query = Get-CzField $Op 'expected_query'
    $action = Get-CzField $Op 'expected_action'
    $ns = 'root\subscription'
    $f = $null; $c = $null
    foreach ($x in @(Get-WmiObject -Namespace $ns -Class __EventFilter -ErrorAction Stop)) { if (Test-CzSameName ([string]$x.Name) $fname) { $f = $x } }
    foreach ($x in @(Get-WmiObject -Namespace $ns -Class __EventConsumer -ErrorAction Stop)) {
        if ((Test-CzSameName ([string]$x.Name) $cname) -and [string]$x.__CLASS -eq $ctype) { $c = $x }
    }
    if ($null -ne $f -and -not (Test-CzSameText ([string]$f.Query) $query)) { Write-CzOutcome 'drift' ('filter query ' + [string]$f.Query); return }
    if ($null -ne $c -and -not (Test-CzSameText (Get-CzConsumerAction $c) $action)) { Write-CzOutcome 'drift' ('consumer action ' + (Get-CzConsumerAction $c)); return }
    # The binding between the two goes; the filter and the consumer go only
    # when no other binding still uses them (one filter can feed several
    # consumers, e.g. Windows' own SCM Event Log Filter).
    $removed = 0
    try {
        $others = New-Object System.Collections.ArrayList
        foreach ($b in @(Get-WmiObject -Namespace $ns -Class __FilterToConsumerBinding -ErrorAction Stop)) {
            $fm = (Test-CzSameName (Get-CzRelName ([string]$b.Filter)) $fname) -and ([string]$b.Filter).Contains('__EventFilter')
            $cm = (Test-CzSameName (Get-CzRelName ([string]$b.Consumer)) $cname) -and ([string]$b.Consumer).Contains($ctype + '.')
            if ($fm -and $cm) { $b.Delete(); $removed++ } else { [void]$others.Add(@($fm, $cm)) }
        }
        $filterUsed = $false; $consumerUsed = $false
        foreach ($o in $others) { if ($o[0]) { $filterUsed = $true }; if ($o[1]) { $consumerUsed = $true } }
        if ($null -ne $c -and -not $consumerUsed) { $c.Delete(); $removed++ }
        if ($null -ne $f -and -not $filterUsed) { $f.Delete(); $removed++ }
    } catch { Write-CzOutcome 'failed' $_.Exception.Message; return }
    if ($removed -eq 0) { Write-CzOutcome 'already_absent' '' } else { Write-CzOutcome 'done' '' }
}

$script:czNativeReady = $false
function Initialize-CzNative {
    if ($script:czNativeReady) { return }
    if ($null -eq ('CauterizeNative' -as [type])) {
        # C# 2.0 syntax: PowerShell 2.0's Add-Type compiles with it.
        Add-Type -TypeDefinition @'
using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
public static class CauterizeNative {
    // The new name is an IntPtr so that NULL reaches MoveFileEx: PowerShell
    // passes "" for $null to a string parameter, and only NULL means
    // "delete at the next boot" (MOVEFILE_DELAY_UNTIL_REBOOT, 4).
    [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode, EntryPoint = "MoveFileExW")]
    static extern bool MoveFileEx(string existing, IntPtr replacement, int flags);
    [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode, EntryPoint = "GetLongPathNameW")]
    public static extern uint GetLongPathName(string shortPath, System.Text.StringBuilder longPath, uint size);
    [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode, EntryPoint = "CreateFileW")]
    static extern SafeFileHandle CreateFile(string name, uint access, uint share, IntPtr security, uint disposition, uint flags, IntPtr template);
    [DllImport("kernel32.dll", SetLastError = true)]
    static extern bool GetFileInformationByHandle(SafeFileHandle h, out ByHandleInfo info);
    [DllImport("kernel32.dll", SetLastError = true)]
    static extern bool SetFileInformationByHandle(SafeFileHandle h, int infoClass, ref byte deleteFile, uint size);
    [DllImport("kernel32.dll", SetLastError = true)]
    static extern bool SetFileInformationByHandle(SafeFileHandle h, int infoClass, ref BasicInfo info, uint size);

    [StructLayout(LayoutKind.Sequential)]
    struct ByHandleInfo {
        public uint Attributes;
        public uint CreatedLow, CreatedHigh, AccessedLow, AccessedHigh, WrittenLow, WrittenHigh;
        public uint Volume, SizeHigh, SizeLow, Links, IndexHigh, IndexLow;
    }
    [StructLayout(LayoutKind.Sequential)]
    struct BasicInfo {
        public long Created, Accessed, Written, Changed;
        public uint Attributes;
    }

    const uint GenericRead = 0x80000000, Delete = 0x10000, WriteAttributes = 0x100;
    const uint ShareRead = 1, ShareWrite = 2, ShareDelete = 4, OpenExisting = 3;
    const uint OpenReparsePoint = 0x200000, BackupSemantics = 0x2000000;
    const uint AttrReadOnly = 1, AttrDirectory = 0x10, AttrReparse = 0x400, AttrNormal = 0x80;
    const int FileBasicInfo = 0, FileDispositionInfo = 4;

    // Results: 0 done (or verified), 1 absent, 2 drift, 3 locked, 5 failed;
    // detail says what was seen.
    public const int Done = 0, Absent = 1, Drift = 2, Locked = 3, Failed = 5;

    public static int QueueDeleteAtBoot(string path) {
        if (MoveFileEx(path, IntPtr.Zero, 4)) { return 0; }
        return Marshal.GetLastWin32Error();
    }

    static string Win32(string what, int e) {
        return what + ": " + new System.ComponentModel.Win32Exception(e).Message + " (Win32 error " + e + ")";
    }

    // Open the entry itself (a link is never followed), with `access`; a
    // reparse point or a folder is refused. Absent: null and Absent.
    static SafeFileHandle Open(string path, uint access, uint share, out int result, out string detail) {
        result = Done; detail = "";
        SafeFileHandle h = CreateFile(path, access, share, IntPtr.Zero, OpenExisting, OpenReparsePoint | BackupSemantics, IntPtr.Zero);
        if (h.IsInvalid) {
            int e = Marshal.GetLastWin32Error();
            if (e == 2 || e == 3) { result = Absent; }
            else { result = (e == 5 || e == 32 || e == 33) ? Locked : Failed; detail = Win32("open", e); }
            return null;
        }
        ByHandleInfo info;
        if (!GetFileInformationByHandle(h, out info)) {
            detail = Win32("read its attributes", Marshal.GetLastWin32Error());
        } else if ((info.Attributes & AttrReparse) != 0) {
            detail = "it is a reparse point (a symbolic link or junction): never deleted or followed";
        } else if ((info.Attributes & AttrDirectory) != 0) {
            detail = "'" + path + "' is a directory";
        } else {
            return h;
        }
        h.Close();
        result = Failed;
        return null;
    }

    static string Sha256(SafeFileHandle h) {
        // Not disposed: that would close the handle the delete goes through.
        FileStream fs = new FileStream(h, FileAccess.Read, 65536, false);
        byte[] d = SHA256.Create().ComputeHash(fs);
        System.Text.StringBuilder sb = new System.Text.StringBuilder(64);
        foreach (byte b in d) { sb.Append(b.ToString("x2")); }
        return sb.ToString();
    }

    // The file is there, no link, with this SHA-256 (read while others may
    // write it: for the boot-time queue, which deletes whatever is there).
    public static int Verify(string path, string sha256, out string detail) {
        int r;
        SafeFileHandle h = Open(path, GenericRead, ShareRead | ShareWrite | ShareDelete, out r, out detail);
        if (h == null) { return r; }
        try {
            string now = Sha256(h);
            if (!string.Equals(now, sha256, StringComparison.OrdinalIgnoreCase)) { detail = "sha256 " + now; return Drift; }
            return Done;
        } catch (Exception x) {
            detail = "cannot read to verify: " + x.Message;
            return Failed;
        } finally { h.Close(); }
    }

    // Hash and delete through one handle: opened without following links,
    // with delete access, sharing no writes (what was hashed is what goes),
    // marked for deletion on that handle (it goes when the last handle
    // closes). A file in use (a running image, a writer) is Locked.
    public static int DeleteVerified(string path, string sha256, out string detail) {
        int r;
        SafeFileHandle h = Open(path, GenericRead | Delete | WriteAttributes, ShareRead | ShareDelete, out r, out detail);
        if (h == null) { return r; }
        try {
            string now = Sha256(h);
            if (!string.Equals(now, sha256, StringComparison.OrdinalIgnoreCase)) { detail = "sha256 " + now; return Drift; }
            ByHandleInfo info;
            if (GetFileInformationByHandle(h, out info) && (info.Attributes & AttrReadOnly) != 0) {
                BasicInfo b = new BasicInfo();
                b.Attributes = info.Attributes & ~AttrReadOnly;
                if (b.Attributes == 0) { b.Attributes = AttrNormal; }
                SetFileInformationByHandle(h, FileBasicInfo, ref b, (uint)Marshal.SizeOf(typeof(BasicInfo)));
            }
            byte yes = 1;
            if (!SetFileInformationByHandle(h, FileDispositionInfo, ref yes, 1)) {
                int e = Marshal.GetLastWin32Error();
                detail = Win32("delete", e);
                return (e == 5 || e == 32) ? Locked : Failed;
            }
            return Done;
        } catch (Exception x) {
            detail = "cannot read to verify: " + x.Message;
            return Failed;
        } finally { h.Close(); }
    }
}
'@
    }
    $script:czNativeReady = $true
}

# Whether PendingFileRenameOperations or PendingFileRenameOperations2 (which
# Windows appends to when it exists) already deletes this full path at boot.
function Test-CzQueued([string]$Full) {
    $key = Open-CzKey ([Microsoft.Win32.Registry]::LocalMachine) 'SYSTEM\CurrentControlSet\Control\Session Manager'
    if ($null -eq $key) { return $false }
    try {
        foreach ($name in @('PendingFileRenameOperations', 'PendingFileRenameOperations2')) {
            $v = $key.GetValue($name)
            if ($null -eq $v) { continue }
            $a = [string[]]$v
            for ($i = 0; $i + 1 -lt $a.Count; $i += 2) {
                if ((Test-CzSameName $a[$i] ('\??\' + $Full)) -and $a[$i + 1].Length -eq 0) { return $true }
            }
        }
    } finally { $key.Close() }
    return $false
}

# Why a path must not be deleted on this host, or ''. The plan was checked
# in Rust; this is the host's own word, on the path as Windows resolves it:
# a path that is not written where it points (. or .. segments, trailing
# dots or spaces), a file directly in the system folders (System32,
# SysWOW64, Sysnative), a file directly in the Windows folder unless it is
# the copy a recorded lateral install ran ($LateralService, the plan's
# `lateral_service`: Get-CzLateralCopyRefusal), or a folder on the way
# that is a reparse point (a junction could lead anywhere).
function Get-CzUnsafeReason([string]$Path, [string]$LateralService = '') {
    $full = $null
    try { $full = [System.IO.Path]::GetFullPath($Path) } catch { return ('the path cannot be resolved: ' + $_.Exception.Message) }
    if (-not (Test-CzSameName $full $Path)) { return ('the path resolves to ' + $full + ' (. or .. segments, or trailing dots or spaces): never deleted') }
    $dir = [System.IO.Path]::GetDirectoryName($full)
    $win = Get-CzWindowsDir
    foreach ($p in @(($win + '\System32'), ($win + '\SysWOW64'), ($win + '\Sysnative'), [Environment]::GetFolderPath('System'))) {
        if (Test-CzSameName $dir $p) { return ('a file directly in ' + $p + ' is never deleted by a plan') }
    }
    if (Test-CzSameName $dir $win) {
        if ($LateralService.Length -eq 0) { return ('a file directly in ' + $win + ' is never deleted by a plan, but as the copy a recorded lateral install ran') }
        $why = Get-CzLateralCopyRefusal $full $win $LateralService
        if ($why -ne '') { return $why }
    }
    return (Get-CzReparseOnPath $dir)
}

function Get-CzWindowsDir {
    $win = [Environment]::GetEnvironmentVariable('SystemRoot')
    if ([string]::IsNullOrEmpty($win)) { $win = 'C:\Windows' }
    return $win.TrimEnd('\')
}

# Files Windows keeps directly in its folder (lower-case): never deleted.
$script:czWindowsKeeps = @('bfsvc.exe', 'explorer.exe', 'helppane.exe', 'hh.exe', 'notepad.exe', 'regedit.exe', 'splwow64.exe', 'winhlp32.exe', 'write.exe', 'twain_32.dll', 'twain.dll')

# Why the file $Full directly in the Windows folder $Win must not be
# deleted as the copy that service $Service's recorded install ran, or ''.
# The one file there a plan deletes is a PsExec-style copy (written through
# ADMIN$, run by a temporary service), and this host checks, whatever the
# plan says: its name is not one Windows keeps there, nor one System32 or
# SysWOW64 holds; it was created more than a day after Windows' install
# (read as the creation time of System32, which setup makes and nothing
# replaces; the registry's InstallDate moves with every feature update),
# since what setup put in the Windows folder is older; it is not validly signed
# (Authenticode: 'unknown', a signature that cannot be read, is refused
# too); and the System log holds a 7045 record of that service whose
# ImagePath runs exactly this file. The SHA-256 is compared after, as for
# every deletion.
function Get-CzLateralCopyRefusal([string]$Full, [string]$Win, [string]$Service) {
    $name = [System.IO.Path]::GetFileName($Full)
    $lower = $name.ToLower()
    foreach ($k in $script:czWindowsKeeps) {
        if ($lower -eq $k) { return ($name + ' is a file Windows keeps in ' + $Win + ': never deleted') }
    }
    foreach ($d in @(($Win + '\System32'), ($Win + '\SysWOW64'))) {
        if ([System.IO.File]::Exists($d + '\' + $name)) { return ($d + ' holds a file named ' + $name + ': a name of Windows'' own, never deleted from ' + $Win) }
    }
    if (-not [System.IO.File]::Exists($Full)) { return '' }
    $install = [System.IO.Directory]::GetCreationTimeUtc($Win + '\System32')
    if ($install.Year -lt 1981) { return ('the creation time of ' + $Win + '\System32 (Windows'' install) cannot be read: a file in ' + $Win + ' is deleted only when it is newer than the install') }
    $created = [System.IO.File]::GetCreationTimeUtc($Full)
    if ($created.ToFileTimeUtc() -le $install.AddDays(1).ToFileTimeUtc()) { return ($name + ' was created ' + (Format-CzTime $created) + ', within a day of Windows'' install (' + (Format-CzTime $install) + ') or before it: Windows'' own, never deleted') }
    $sig = Get-CzSignature $Full
    if ($sig[0] -ne 'unsigned' -and $sig[0] -ne 'invalid') { return ($name + '''s signature reads ''' + $sig[0] + ''': only a copy not validly signed is deleted from ' + $Win) }
    $ran = Test-CzInstallRan $Service $Full
    if ($ran -ne '') { return $ran }
    return ''
}

# '' when the System log holds a 7045 record of service $Service whose
# ImagePath (environment variables expanded) runs $Full: the path alone,
# quoted or not, or a launcher's argument (regsvr32 /s "C:\Windows\x.dll",
# rundll32 C:\Windows\x.dll,Start); else why not.
function Test-CzInstallRan([string]$Service, [string]$Full) {
    $records = @()
    try {
        $records = @(Get-WinEvent -FilterHashtable @{ LogName = 'System'; Id = 7045; ProviderName = 'Service Control Manager' } -ErrorAction Stop)
    } catch {
        if (-not ([string]$_.FullyQualifiedErrorId).StartsWith('NoMatchingEventsFound', [StringComparison]::Ordinal)) {
            return ('the System log cannot be read to find the install of service ' + $Service + ': ' + $_.Exception.Message)
        }
    }
    $want = $Full.ToLower()
    foreach ($r in $records) {
        if ($null -eq $r.Properties -or $r.Properties.Count -lt 2) { continue }
        if (-not (Test-CzSameName ([string]$r.Properties[0].Value) $Service)) { continue }
        $image = [Environment]::ExpandEnvironmentVariables([string]$r.Properties[1].Value).ToLower()
        $at = $image.IndexOf($want)
        while ($at -ge 0) {
            $before = ''
            if ($at -gt 0) { $before = $image.Substring($at - 1, 1) }
            $end = $at + $want.Length
            $next = ''
            if ($end -lt $image.Length) { $next = $image.Substring($end, 1) }
            if (($before -eq '' -or $before -eq ' ' -or $before -eq '"') -and ($next -eq '' -or $next -eq ' ' -or $next -eq '"' -or $next -eq ',')) { return '' }
            $at = $image.IndexOf($want, $at + 1)
        }
    }
    return ('no System 7045 record on this host shows service ' + $Service + ' running ' + $Full + ': a file in the Windows folder is deleted only as the copy a recorded lateral install ran')
}

# The first folder of $Dir and its parents that is a reparse point (a
# junction or symbolic link could lead anywhere), as a reason, or ''.
function Get-CzReparseOnPath([string]$Dir) {
    $d = $Dir
    while (-not [string]::IsNullOrEmpty($d) -and $d.Length -gt 3) {
        $attrs = 0
        try { $attrs = [int][System.IO.File]::GetAttributes($d) } catch { }
        if (($attrs -band 0x400) -ne 0) { return ('the folder ' + $d + ' on its path is a reparse point (a junction or symbolic link): never deleted through') }
        $d = [System.IO.Path]::GetDirectoryName($d)
    }
    return ''
}

# Queue a verified file for deletion at boot and read the queue back: a
# MoveFileEx success only says something was written to the registry.
function Add-CzQueue([string]$Path, [string]$Sha) {
    Initialize-CzNative
    $detail = ''
    $r = [CauterizeNative]::Verify($Path, $Sha, [ref]$detail)
    if ($r -eq 1) { Write-CzOutcome 'already_absent' ''; return }
    if ($r -eq 2) { Write-CzOutcome 'drift' $detail; return }
    if ($r -ne 0) { Write-CzOutcome 'failed' $detail; return }
    $full = [System.IO.Path]::GetFullPath($Path)
    if (Test-CzQueued $full) { Write-CzOutcome 'queued_for_reboot' ''; return }
    $e = [CauterizeNative]::QueueDeleteAtBoot($full)
    if ($e -ne 0) {
        Write-CzOutcome 'failed' ('MoveFileEx: ' + (New-Object System.ComponentModel.Win32Exception($e)).Message + ' (Win32 error ' + $e + ')')
    } elseif (Test-CzQueued $full) {
        Write-CzOutcome 'queued_for_reboot' ''
    } else {
        Write-CzOutcome 'failed' 'MoveFileEx reported success, but neither PendingFileRenameOperations nor PendingFileRenameOperations2 holds the entry'
    }
}

function Invoke-CzDeleteFile($Op) {
    $path = Get-CzField $Op 'path'
    $sha = Get-CzField $Op 'expected_sha256'
    $unsafe = Get-CzUnsafeReason $path (Get-CzField $Op 'lateral_service')
    if ($unsafe -ne '') { Write-CzOutcome 'failed' $unsafe; return }
    Initialize-CzNative
    $detail = ''
    switch ([CauterizeNative]::DeleteVerified($path, $sha, [ref]$detail)) {
        0 { Write-CzOutcome 'done' '' }
        1 { Write-CzOutcome 'already_absent' '' }
        2 { Write-CzOutcome 'drift' $detail }
        3 {
            if ((Get-CzField $Op 'queue_if_locked') -eq '1') { Add-CzQueue $path $sha } else { Write-CzOutcome 'failed' ('locked: ' + $detail) }
        }
        default { Write-CzOutcome 'failed' $detail }
    }
}

function Invoke-CzQueueDeleteOnReboot($Op) {
    $path = Get-CzField $Op 'path'
    $unsafe = Get-CzUnsafeReason $path (Get-CzField $Op 'lateral_service')
    if ($unsafe -ne '') { Write-CzOutcome 'failed' $unsafe; return }
    Add-CzQueue $path (Get-CzField $Op 'expected_sha256')
}

# ---- power: the reboot phase ----
#
# A host proves it rebooted by its boot time changing, never by a command's
# success: shutdown.exe exiting 0 only says a shutdown was scheduled, and
# WinRM goes silent both while a host reboots and when it is lost. The
# engine reads the boot time before asking, then until it changes.

# Win32_OperatingSystem.LastBootUpTime as WMI gives it: a CIM datetime,
# yyyyMMddHHmmss.ffffff then the offset from UTC in minutes (+060, -300),
# in the host's local time of that moment. It goes back as it is; the Rust
# side (src/runtime/power.rs) turns it into UTC with that offset, so no
# time-zone rule of this host or of the operator is applied on top.
# Get-WmiObject: PowerShell 2.0 has no CIM cmdlets (they came with 3.0).
function Invoke-CzBootTime {
    $raw = ''
    foreach ($os in @(Get-WmiObject -Class Win32_OperatingSystem)) { $raw = [string]$os.LastBootUpTime }
    if ($raw.Length -eq 0) { throw 'Win32_OperatingSystem reports no LastBootUpTime' }
    Write-CzRecord 'boot' @('cim', $raw)
}

# shutdown.exe from System32 (not whatever the PATH finds first), judged by
# its exit code only: its text is localized, and goes back only for the
# person reading a failure.
function Invoke-CzShutdownExe([string[]]$Arguments) {
    $ErrorActionPreference = 'Continue'
    $exe = Join-Path ([Environment]::GetFolderPath('System')) 'shutdown.exe'
    $out = & $exe $Arguments 2>&1
    $code = $LASTEXITCODE
    $text = [string]::Join(' ', @($out | ForEach-Object { ([string]$_).Trim() }))
    Write-CzRecord 'shutdown' @('exit', [string]$code, 'text', $text)
}

# First, when the job names the files the purge deleted or queued for
# deletion at boot: whether each is gone, or still deleted at boot by the
# pending file-rename queue (Test-CzQueued reads PendingFileRenameOperations
# and PendingFileRenameOperations2; an installer that rewrites the value
# can drop entries), so the journal shows the deletions in place before the
# host goes down ('files': asked, queued, gone, and each path left: there
# and not queued). Then the reboot: /r restart; /t the countdown (above 0
# it implies /f: once it runs out, applications close without asking, so
# the message tells users to save); /c the message users see (at most 512
# characters); /d p:2:18, "Operating System: Security fix (Planned)", which
# the System log's event 1074 records with the comment.
# Exit codes (the 'shutdown' record; the Rust side reads them):
#   0     the reboot is scheduled;
#   1190  a shutdown was already scheduled (ours from an earlier try, or
#         someone else's, whose time and kind this host does not say):
#         the engine counts the reboot as asked and waits for the boot
#         time to change; a shutdown that never reboots shows as a reboot
#         that never started, once the countdown and the return time-out
#         have passed;
#   1115  a shutdown is in progress: the host is going down; asked too;
#   other a failure (5: access denied, no SeRemoteShutdownPrivilege).
function Invoke-CzReboot($Op) {
    $files = Get-CzFields $Op 'file'
    if ($files.Count -gt 0) {
        $queued = 0
        $gone = 0
        $left = New-Object System.Collections.ArrayList
        foreach ($p in $files) {
            $full = $null
            try { $full = [System.IO.Path]::GetFullPath([string]$p) } catch { }
            if ($null -ne $full -and (Test-CzQueued $full)) { $queued++ }
            elseif ($null -ne $full -and -not [System.IO.File]::Exists($full)) { $gone++ }
            else { [void]$left.Add('left'); [void]$left.Add([string]$p) }
        }
        Write-CzRecord 'files' (@('asked', [string]$files.Count, 'queued', [string]$queued, 'gone', [string]$gone) + $left.ToArray())
    }
    $t = [string][long](Get-CzField $Op 'countdown_secs')
    Invoke-CzShutdownExe @('/r', '/t', $t, '/c', (Get-CzField $Op 'message'), '/d', (Get-CzField $Op 'reason'))
}

# shutdown /a: cancels a countdown that has not run out. Exit 0: cancelled;
# 1116: no shutdown was in progress (nothing to cancel: not a failure).
function Invoke-CzAbortReboot {
    Invoke-CzShutdownExe @('/a')
}

# The users with an interactive session (console or Remote Desktop, active
# or disconnected: what `query user` lists), one 'session' record each (sid,
# name, session id), then 'sessions' with their count so that a cut answer
# is never read as "nobody". Read from the owners of the processes in each
# session other than 0 (services and this WinRM shell run in session 0),
# never from quser's text, which is localized and absent from Home
# editions, nor from Win32_LogonSession, which keeps logon sessions that
# ended while a token still refers to them. Owners are compared by SID
# (account names are localized: NT-AUTORITÄT\SYSTEM): SYSTEM, LOCAL
# SERVICE and NETWORK SERVICE (S-1-5-18/19/20) run csrss, winlogon and
# LogonUI in every session, Window Manager's DWM-n (S-1-5-90-) and Font
# Driver Host's UMFD-n (S-1-5-96-) run in each session too: none of them is
# a user. A session none of whose owners can be read is reported with an
# empty SID: someone may be there. Get-WmiObject, as for the boot time:
# Windows PowerShell 2.0 to 5.1 (powershell.exe, which the bootstrap
# starts); PowerShell 7 has none, and there the item fails, which the
# engine reads as "cannot tell", never as "nobody".
function Invoke-CzLoggedOnUsers {
    $bySession = @{}
    foreach ($p in @(Get-WmiObject -Class Win32_Process -ErrorAction Stop)) {
        $id = [long]$p.SessionId
        if ($id -eq 0) { continue }
        if (-not $bySession.ContainsKey($id)) { $bySession[$id] = New-Object System.Collections.ArrayList }
        [void]$bySession[$id].Add($p)
    }
    $count = 0
    foreach ($id in @($bySession.Keys | Sort-Object)) {
        $user = $null
        $unread = $false
        foreach ($p in $bySession[$id]) {
            $sid = ''
            try {
                $o = $p.GetOwnerSid()
                if ($o.ReturnValue -eq 0) { $sid = [string]$o.Sid } else { $unread = $true }
            } catch { $unread = $true }
            if ($sid -eq '') { continue }
            if ($sid -eq 'S-1-5-18' -or $sid -eq 'S-1-5-19' -or $sid -eq 'S-1-5-20') { continue }
            if ($sid.StartsWith('S-1-5-90-') -or $sid.StartsWith('S-1-5-96-')) { continue }
            $user = $sid
            break
        }
        if ($null -eq $user -and -not $unread) { continue }
        $name = ''
        if ($null -ne $user) {
            try { $name = (New-Object System.Security.Principal.SecurityIdentifier($user)).Translate([System.Security.Principal.NTAccount]).Value } catch { }
        } else { $user = '' }
        Write-CzRecord 'session' @('sid', $user, 'name', $name, 'id', [string]$id)
        $count++
    }
    Write-CzRecord 'sessions' @('count', [string]$count)
}

# ---- containment: the engagement's firewall rules and its dead-man ----
# (src/runtime/contain.rs says which Windows facts this relies on.) Rules
# go through COM HNetCfg.FwPolicy2 (Vista and later, PowerShell 2.0),
# never netsh's localized text and never the NetSecurity module's cmdlets
# (Windows 8 and later only).
# Every rule name of the engagement matches the job's rule_pattern
# (-cmatch, from src/firewall/naming.rs); nothing else is ever touched.

# Removes every rule whose name matches $Pattern, then the task $TaskPath;
# outputs the names removed. Release runs it, and the dead-man task runs
# this very text on its own (powershell.exe -EncodedCommand), so it uses
# nothing else of this script. Names need not be unique and Rules.Remove
# removes one rule of a name: one Remove per rule seen.
$script:czUncontain = @'
param([string]$Pattern, [string]$TaskPath)
$fw = New-Object -ComObject HNetCfg.FwPolicy2
$names = New-Object System.Collections.ArrayList
foreach ($r in $fw.Rules) { if ([string]$r.Name -cmatch $Pattern) { [void]$names.Add([string]$r.Name) } }
foreach ($n in $names) { $fw.Rules.Remove($n); $n }
$i = $TaskPath.LastIndexOf('\')
$svc = New-Object -ComObject Schedule.Service
$svc.Connect()
try { $svc.GetFolder($TaskPath.Substring(0, $i)).DeleteTask($TaskPath.Substring($i + 1), 0) } catch { }
'@

# The rules the job asks for, each @{ Name; Direction; Protocol; Ports;
# Remote; Description }; a name outside the engagement's pattern is refused
# (release could not find it).
function Read-CzRules($Op, [string]$Pattern) {
    $n = Get-CzFields $Op 'rule_name'
    $d = Get-CzFields $Op 'rule_direction'
    $p = Get-CzFields $Op 'rule_protocol'
    $ports = Get-CzFields $Op 'rule_ports'
    $remote = Get-CzFields $Op 'rule_remote'
    $desc = Get-CzFields $Op 'rule_description'
    foreach ($x in @($d, $p, $ports, $remote, $desc)) {
        if ($x.Count -ne $n.Count) { throw 'rule fields do not come in sixes' }
    }
    $list = New-Object System.Collections.ArrayList
    for ($i = 0; $i -lt $n.Count; $i++) {
        if (-not ([string]$n[$i] -cmatch $Pattern)) { throw ('rule name ' + $n[$i] + ' is not of the engagement') }
        [void]$list.Add(@{ Name = [string]$n[$i]; Direction = [int]$d[$i]; Protocol = [int]$p[$i]; Ports = [string]$ports[$i]; Remote = [string]$remote[$i]; Description = [string]$desc[$i] })
    }
    return ,$list
}

# A port or address list as a comparable text: entries trimmed, lower-case,
# sorted; a single address read back as a/255.255.255.255 or a/128 (how
# Windows writes one back) is a.
function Get-CzListKey([string]$List) {
    $t = New-Object System.Collections.ArrayList
    foreach ($x in $List.Split(',')) {
        $x = $x.Trim().ToLowerInvariant()
        if ($x.EndsWith('/255.255.255.255')) { $x = $x.Substring(0, $x.Length - 16) }
        elseif ($x.EndsWith('/128')) { $x = $x.Substring(0, $x.Length - 4) }
        if ($x.Length -gt 0) { [void]$t.Add($x) }
    }
    return [string]::Join(',', [string[]]@($t | Sort-Object))
}

# Is rule $R (COM INetFwRule) exactly the block rule $W asks for?
function Test-CzRuleSame($R, $W) {
    $ports = [string]$R.RemotePorts
    if ($W.Direction -eq 1) { $ports = [string]$R.LocalPorts }
    return ([int]$R.Direction -eq $W.Direction -and [int]$R.Protocol -eq $W.Protocol -and [int]$R.Action -eq 0 -and [bool]$R.Enabled -and
        (([int]$R.Profiles -band 7) -eq 7) -and ((Get-CzListKey $ports) -ceq (Get-CzListKey $W.Ports)) -and
        ((Get-CzListKey ([string]$R.RemoteAddresses)) -ceq (Get-CzListKey $W.Remote)))
}

# Adds block rule $W: every profile, enabled; the protocol is set before
# the ports (COM refuses ports on a rule of any protocol).
function Add-CzRule($Fw, $W) {
    $r = New-Object -ComObject HNetCfg.FWRule
    $r.Name = $W.Name
    $r.Description = $W.Description
    $r.Grouping = 'cauterize'
    $r.Direction = $W.Direction
    $r.Protocol = $W.Protocol
    if ($W.Direction -eq 1) { $r.LocalPorts = $W.Ports } else { $r.RemotePorts = $W.Ports }
    $r.RemoteAddresses = $W.Remote
    $r.Action = 0
    $r.Profiles = 2147483647
    $r.Enabled = $true
    $Fw.Rules.Add($r)
}

# The engagement's rules on the host, by name (each a list: names repeat).
function Get-CzEngagementRules($Fw, [string]$Pattern) {
    $have = @{}
    foreach ($r in $Fw.Rules) {
        $n = [string]$r.Name
        if ($n -cmatch $Pattern) {
            if (-not $have.ContainsKey($n)) { $have[$n] = New-Object System.Collections.ArrayList }
            [void]$have[$n].Add($r)
        }
    }
    return $have
}

# What keeps the rules from working: an active profile with the firewall
# off, or Group Policy ignoring local rules (AllowLocalPolicyMerge off:
# LocalPolicyModifyState 1). State 2 (inbound blocked always by policy)
# blocks SMB in anyway: not a problem.
function Write-CzFirewallProblems($Fw) {
    $types = [int]$Fw.CurrentProfileTypes
    foreach ($p in @(@(1, 'domain'), @(2, 'private'), @(4, 'public'))) {
        if (($types -band $p[0]) -ne 0 -and -not [bool]$Fw.FirewallEnabled($p[0])) {
            Write-CzRecord 'problem' @('what', ('the firewall is off in the active ' + $p[1] + ' profile'))
        }
    }
    if ([int]$Fw.LocalPolicyModifyState -eq 1) {
        Write-CzRecord 'problem' @('what', 'Group Policy ignores local firewall rules (AllowLocalPolicyMerge off): the rules have no effect')
    }
}

# The deadline $Secs from now by this host's UTC clock, as a task's
# StartBoundary: YYYY-MM-DDTHH:MM:SSZ (Z: absolute, not local time).
function Get-CzDeadline([long]$Secs) {
    $d = [DateTime]::UtcNow.AddSeconds($Secs)
    return ('{0:D4}-{1:D2}-{2:D2}T{3:D2}:{4:D2}:{5:D2}Z' -f $d.Year, $d.Month, $d.Day, $d.Hour, $d.Minute, $d.Second)
}

# The dead-man's powershell.exe arguments: $script:czUncontain with its two
# values carried as base64 (nothing spliced into code).
function Get-CzDeadmanArguments([string]$Pattern, [string]$TaskPath) {
    $p = [Convert]::ToBase64String($script:czUtf8.GetBytes($Pattern))
    $t = [Convert]::ToBase64String($script:czUtf8.GetBytes($TaskPath))
    $text = '$czP = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String(''' + $p + '''))' + "`n" +
        '$czT = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String(''' + $t + '''))' + "`n" +
        '& {' + "`n" + $script:czUncontain + "`n" + '} $czP $czT' + "`n"
    return ('-NoProfile -NonInteractive -WindowStyle Hidden -EncodedCommand ' + [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($text)))
}

function Split-CzTaskPath([string]$TaskPath) {
    $i = $TaskPath.LastIndexOf('\')
    return @($TaskPath.Substring(0, $i), $TaskPath.Substring($i + 1))
}

function Get-CzTaskOrNull($Folder, [string]$Leaf) {
    if ($null -eq $Folder) { return $null }
    try { return $Folder.GetTask($Leaf) } catch { return $null }
}

# Registers the dead-man (create or update, flag 6) as SYSTEM (logon type
# 5, no password), one time trigger at $Deadline, StartWhenAvailable so a
# deadline missed while the host was off still fires.
function Register-CzDeadman($Svc, [string]$TaskPath, [string]$Arguments, [string]$Deadline) {
    $parts = Split-CzTaskPath $TaskPath
    $folder = $null
    try { $folder = $Svc.GetFolder($parts[0]) } catch { $folder = $Svc.GetFolder('\').CreateFolder($parts[0]) }
    $def = $Svc.NewTask(0)
    $def.RegistrationInfo.Author = 'cauterize'
    $def.RegistrationInfo.Description = 'cauterize dead-man: removes the engagement''s firewall rules, then this task'
    $def.Principal.RunLevel = 1
    $def.Settings.StartWhenAvailable = $true
    $def.Settings.DisallowStartIfOnBatteries = $false
    $def.Settings.StopIfGoingOnBatteries = $false
    $def.Settings.ExecutionTimeLimit = 'PT10M'
    $def.Settings.Enabled = $true
    $trigger = $def.Triggers.Create(1)
    $trigger.StartBoundary = $Deadline
    $trigger.Enabled = $true
    $action = $def.Actions.Create(0)
    $action.Path = '%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe'
    $action.Arguments = $Arguments
    [void]$folder.RegisterTaskDefinition($parts[1], $def, 6, 'SYSTEM', $null, 5)
}

# The dead-man as the host has it: a record (present, deadline); $true when
# it is there with our action.
function Write-CzDeadmanState($Svc, [string]$TaskPath, [string]$Arguments) {
    $parts = Split-CzTaskPath $TaskPath
    $folder = $null
    try { $folder = $Svc.GetFolder($parts[0]) } catch { }
    $task = Get-CzTaskOrNull $folder $parts[1]
    $deadline = ''
    $ok = $false
    if ($null -ne $task) {
        foreach ($t in @($task.Definition.Triggers)) { $deadline = [string]$t.StartBoundary }
        foreach ($a in @($task.Definition.Actions)) { if ([string]$a.Arguments -ceq $Arguments) { $ok = [bool]$task.Enabled } }
    }
    Write-CzRecord 'deadman' @('present', ([string][int]$ok), 'deadline', $deadline)
    return $ok
}

function Invoke-CzContain($Op) {
    $pattern = Get-CzField $Op 'rule_pattern'
    $taskPath = Get-CzField $Op 'task'
    $want = Read-CzRules $Op $pattern
    $fw = New-Object -ComObject HNetCfg.FwPolicy2
    $have = Get-CzEngagementRules $fw $pattern
    $wanted = @{}
    $changed = 0
    foreach ($w in $want) {
        $wanted[$w.Name] = $true
        $state = 'added'
        if ($have.ContainsKey($w.Name)) {
            $list = $have[$w.Name]
            if ($list.Count -eq 1 -and (Test-CzRuleSame $list[0] $w)) { $state = 'unchanged' }
            else { foreach ($x in $list) { $fw.Rules.Remove($w.Name) }; $state = 'replaced' }
        }
        if ($state -ne 'unchanged') { Add-CzRule $fw $w; $changed++ }
        Write-CzRecord 'rule' @('name', $w.Name, 'state', $state)
    }
    foreach ($n in @($have.Keys)) {
        if (-not $wanted.ContainsKey($n)) {
            foreach ($x in $have[$n]) { $fw.Rules.Remove($n) }
            Write-CzRecord 'rule' @('name', $n, 'state', 'removed')
            $changed++
        }
    }
    $svc = New-Object -ComObject Schedule.Service
    $svc.Connect()
    $arguments = Get-CzDeadmanArguments $pattern $taskPath
    $parts = Split-CzTaskPath $taskPath
    $folder = $null
    try { $folder = $svc.GetFolder($parts[0]) } catch { }
    $task = Get-CzTaskOrNull $folder $parts[1]
    $same = $false
    if ($null -ne $task) { foreach ($a in @($task.Definition.Actions)) { if ([string]$a.Arguments -ceq $arguments) { $same = [bool]$task.Enabled } } }
    if (-not $same) {
        Register-CzDeadman $svc $taskPath $arguments (Get-CzDeadline ([long](Get-CzField $Op 'deadman_secs')))
        $changed++
    }
    # Read back: every rule as asked, the engagement's count, the dead-man.
    $now = Get-CzEngagementRules $fw $pattern
    $missing = @()
    foreach ($w in $want) {
        if (-not $now.ContainsKey($w.Name) -or $now[$w.Name].Count -ne 1 -or -not (Test-CzRuleSame $now[$w.Name][0] $w)) { $missing += $w.Name }
    }
    Write-CzRecord 'in_place' @('rules', ([string]$now.Count))
    Write-CzFirewallProblems $fw
    $armed = Write-CzDeadmanState $svc $taskPath $arguments
    if ($missing.Count -gt 0) { Write-CzOutcome 'failed' ('rules not read back as made: ' + [string]::Join(', ', [string[]]$missing)); return }
    if (-not $armed) { Write-CzOutcome 'failed' ('the dead-man task ' + $taskPath + ' is not registered'); return }
    if ($changed -eq 0) { Write-CzOutcome 'done' 'already contained: nothing changed' } else { Write-CzOutcome 'done' '' }
}

function Invoke-CzExtendDeadman($Op) {
    $pattern = Get-CzField $Op 'rule_pattern'
    $taskPath = Get-CzField $Op 'task'
    $svc = New-Object -ComObject Schedule.Service
    $svc.Connect()
    $arguments = Get-CzDeadmanArguments $pattern $taskPath
    Register-CzDeadman $svc $taskPath $arguments (Get-CzDeadline ([long](Get-CzField $Op 'deadman_secs')))
    if (Write-CzDeadmanState $svc $taskPath $arguments) { Write-CzOutcome 'done' '' }
    else { Write-CzOutcome 'failed' ('the dead-man task ' + $taskPath + ' is not registered') }
}

function Invoke-CzRelease($Op) {
    $pattern = Get-CzField $Op 'rule_pattern'
    $taskPath = Get-CzField $Op 'task'
    $removed = @(& ([ScriptBlock]::Create($script:czUncontain)) $pattern $taskPath)
    foreach ($n in $removed) { Write-CzRecord 'rule' @('name', [string]$n, 'state', 'removed') }
    $fw = New-Object -ComObject HNetCfg.FwPolicy2
    $left = Get-CzEngagementRules $fw $pattern
    Write-CzRecord 'in_place' @('rules', ([string]$left.Count))
    $svc = New-Object -ComObject Schedule.Service
    $svc.Connect()
    $parts = Split-CzTaskPath $taskPath
    $folder = $null
    try { $folder = $svc.GetFolder($parts[0]) } catch { }
    $task = Get-CzTaskOrNull $folder $parts[1]
    Write-CzRecord 'deadman' @('present', ([string][int]($null -ne $task)), 'deadline', '')
    if ($left.Count -gt 0) { Write-CzOutcome 'failed' ([string]$left.Count + ' rule(s) of the engagement are still there'); return }
    if ($null -ne $task) { Write-CzOutcome 'failed' ('the dead-man task ' + $taskPath + ' is still there'); return }
    if ($removed.Count -eq 0) { Write-CzOutcome 'done' 'nothing to release: no rule of the engagement was there' } else { Write-CzOutcome 'done' '' }
}

# ---- whole registry keys ----

# Keys a plan never deletes whole, relative to a hive's root (HKLM or a
# user's hive), compared case-insensitively: the places Windows, its
# installers and every autostart live in. Besides these, a key right
# under a hive's root, and anything under HKLM's SYSTEM, SAM, SECURITY,
# HARDWARE and BCD00000000, are refused.
$script:czKeptKeys = @(
    'Software\Microsoft', 'Software\Classes', 'Software\Policies', 'Software\WOW6432Node',
    'Software\Microsoft\Windows', 'Software\Microsoft\Windows\CurrentVersion',
    'Software\Microsoft\Windows\CurrentVersion\Run', 'Software\Microsoft\Windows\CurrentVersion\RunOnce',
    'Software\Microsoft\Windows\CurrentVersion\RunOnceEx', 'Software\Microsoft\Windows\CurrentVersion\Explorer',
    'Software\Microsoft\Windows\CurrentVersion\Policies', 'Software\Microsoft\Windows\CurrentVersion\Uninstall',
    'Software\Microsoft\Windows NT', 'Software\Microsoft\Windows NT\CurrentVersion',
    'Software\Microsoft\Windows NT\CurrentVersion\Winlogon', 'Software\Microsoft\Windows NT\CurrentVersion\Windows',
    'Software\Microsoft\Windows NT\CurrentVersion\Image File Execution Options',
    'Software\Microsoft\Windows Defender', 'Software\Microsoft\Active Setup', 'Software\Microsoft\Cryptography',
    'Software\Microsoft\Internet Explorer', 'Software\Microsoft\Office', 'Software\Microsoft\Windows Script Host',
    'Software\WOW6432Node\Microsoft', 'Software\WOW6432Node\Microsoft\Windows',
    'Software\WOW6432Node\Microsoft\Windows\CurrentVersion', 'Software\WOW6432Node\Microsoft\Windows\CurrentVersion\Run',
    'Software\Classes\CLSID', 'Software\Classes\Wow6432Node', 'Software\Classes\*', 'Software\Classes\exefile',
    'Software\Classes\Directory', 'Software\Classes\Folder', 'Software\Classes\AppID', 'Software\Classes\Interface',
    'Software\Classes\TypeLib', 'Software\Classes\Local Settings', 'Software\Microsoft\Windows\Shell'
)
$script:czKeptHklmRoots = @('SYSTEM', 'SAM', 'SECURITY', 'HARDWARE', 'BCD00000000')

# Why a whole key must not be deleted, or ''.
function Get-CzKeyUnsafeReason([string]$Hive, [string]$Rel) {
    $parts = $Rel.Split('\')
    foreach ($p in $parts) {
        if ($p.Length -eq 0) { return ('the key path ' + $Rel + ' has an empty part (a leading, trailing or doubled backslash): never deleted') }
    }
    if ($parts.Length -lt 2) { return ('the key ' + $Hive + '\' + $Rel + ' is right under the hive root: never deleted whole') }
    if ($Hive -eq 'HKLM') {
        foreach ($r in $script:czKeptHklmRoots) {
            if (Test-CzSameName $parts[0] $r) { return ('the key is under HKLM\' + $r + ', part of Windows itself: never deleted whole') }
        }
    }
    foreach ($k in $script:czKeptKeys) {
        if (Test-CzSameName $Rel $k) { return ('the key ' + $Hive + '\' + $Rel + ' is one Windows or its programs are built on: never deleted whole') }
    }
    return ''
}

# The lines of a key's tree for its digest (src/runtime/ops.rs,
# registry_tree_digest): `subkey<TAB>name<TAB>type<TAB>data SHA-256` per
# value, the subkey relative to the tree's key; labels (`subkey\name`,
# `(default)`) go to $Labels. At most 64 levels and 10000 values:
# beyond that, it throws (the key is not one a scan could have seen whole).
function Add-CzKeyTreeLines($Key, [string]$Sub, [int]$Depth, $Lines, $Labels) {
    if ($Depth -gt 64) { throw ('the key is more than 64 levels deep at ' + $Sub) }
    if ($Lines.Count -gt 10000) { throw 'the key holds more than 10000 values' }
    # The subkey path with ASCII A-Z lowered (key names are case-insensitive;
    # a scan names a key as it asked for it): ops.rs folds it the same way.
    $sb = New-Object System.Text.StringBuilder ($Sub.Length + 1)
    foreach ($ch in $Sub.ToCharArray()) {
        $u = [int]$ch
        if ($u -ge 65 -and $u -le 90) { $u += 32 }
        [void]$sb.Append([char]$u)
    }
    $lowSub = $sb.ToString()
    foreach ($n in $Key.GetValueNames()) {
        $v = Get-CzRegValue $Key $n 0
        [void]$Lines.Add($lowSub + "`t" + $n + "`t" + $v[0] + "`t" + $v[3])
        $label = $n
        if ($n.Length -eq 0) { $label = '(default)' }
        if ($Sub.Length -gt 0) { $label = $Sub + '\' + $label }
        [void]$Labels.Add($label)
    }
    foreach ($c in $Key.GetSubKeyNames()) {
        $child = $Key.OpenSubKey($c, $false)
        if ($null -eq $child) { continue }
        $rel = $c
        if ($Sub.Length -gt 0) { $rel = $Sub + '\' + $c }
        try { Add-CzKeyTreeLines $child $rel ($Depth + 1) $Lines $Labels } finally { $child.Close() }
    }
}

# The digest of a key's tree, and its labels: @(digest, labels).
function Get-CzKeyTreeDigest($Key) {
    $lines = New-Object System.Collections.ArrayList
    $labels = New-Object System.Collections.ArrayList
    Add-CzKeyTreeLines $Key '' 0 $lines $labels
    $a = [string[]]$lines.ToArray([string])
    [Array]::Sort($a, [StringComparer]::Ordinal)
    $digest = ConvertTo-CzHex ($script:czSha.ComputeHash((ConvertTo-CzUnits ([string]::Join("`n", $a))))) -1
    return @($digest, $labels)
}

# Delete a whole key (its subkeys too) if its tree still has the digest
# the plan carries; the host's own guard refuses hive roots and the keys
# Windows is built on whatever the plan says.
function Invoke-CzDeleteRegistryKey($Op) {
    $hive = Get-CzField $Op 'hive'
    $rel = Get-CzField $Op 'key'
    $edigest = (Get-CzField $Op 'expected_digest').ToLower()
    $unsafe = Get-CzKeyUnsafeReason $hive $rel
    if ($unsafe -ne '') { Write-CzOutcome 'failed' $unsafe; return }
    try { $at = Enter-CzOpHive $hive $rel } catch { Write-CzOutcome 'failed' $_.Exception.Message; return }
    try {
        $i = $at[1].LastIndexOf('\')
        $parent = $null
        try { $parent = $at[0].OpenSubKey($at[1].Substring(0, $i), $true) } catch { Write-CzOutcome 'failed' $_.Exception.Message; return }
        if ($null -eq $parent) { Write-CzOutcome 'already_absent' ''; return }
        try {
            $leaf = $at[1].Substring($i + 1)
            $key = $parent.OpenSubKey($leaf, $false)
            if ($null -eq $key) { Write-CzOutcome 'already_absent' ''; return }
            try { $now = Get-CzKeyTreeDigest $key } finally { $key.Close() }
            if ($now[0] -cne $edigest) {
                $expected = Get-CzFields $Op 'expected_value'
                $added = @(); $gone = @()
                foreach ($l in $now[1]) { if (-not ($expected -ccontains $l)) { $added += $l } }
                foreach ($l in $expected) { if (-not ($now[1] -ccontains $l)) { $gone += $l } }
                $detail = 'the key holds ' + $now[1].Count + ' values (digest ' + $now[0] + ')'
                if ($added.Count -gt 0) { $detail += '; not in the plan: ' + [string]::Join(', ', [string[]]$added) }
                if ($gone.Count -gt 0) { $detail += '; gone: ' + [string]::Join(', ', [string[]]$gone) }
                if ($added.Count -eq 0 -and $gone.Count -eq 0) { $detail += '; the same values, other data' }
                Write-CzOutcome 'drift' $detail
                return
            }
            $parent.DeleteSubKeyTree($leaf)
            Write-CzOutcome 'done' ''
        } finally { $parent.Close() }
    } catch {
        Write-CzOutcome 'failed' $_.Exception.Message
    } finally { Exit-CzOpHive $hive $at[2] }
}

# ---- loader folders ----

# Why a folder must not be removed on this host, or '': a path not written
# where it points, a drive's root, a folder Windows, its programs or the
# profiles are built on, or one reached through a junction or symbolic
# link (the plan's guard refuses more, by name, in Rust).
function Get-CzFolderUnsafeReason([string]$Path) {
    $full = $null
    try { $full = [System.IO.Path]::GetFullPath($Path) } catch { return ('the path cannot be resolved: ' + $_.Exception.Message) }
    if (-not (Test-CzSameName $full $Path)) { return ('the path resolves to ' + $full + ' (. or .. segments, or trailing dots or spaces): never removed') }
    $parent = [System.IO.Path]::GetDirectoryName($full)
    if ([string]::IsNullOrEmpty($parent)) { return ($full + ' is the root of a drive: never removed') }
    $win = [Environment]::GetEnvironmentVariable('SystemRoot')
    if ([string]::IsNullOrEmpty($win)) { $win = 'C:\Windows' }
    $kept = @($win, ($win + '\System32'), ($win + '\SysWOW64'), ($win + '\Temp'), [Environment]::GetEnvironmentVariable('ProgramFiles'),
        [Environment]::GetEnvironmentVariable('ProgramFiles(x86)'), [Environment]::GetEnvironmentVariable('ProgramData'),
        [System.IO.Path]::GetDirectoryName([Environment]::GetEnvironmentVariable('PUBLIC')))
    foreach ($p in (Get-CzProfiles)) { $kept += $p.Path }
    foreach ($k in $kept) {
        if (-not [string]::IsNullOrEmpty($k) -and (Test-CzSameName $full $k)) { return ($full + ' is a folder Windows or a profile is built on: never removed') }
    }
    return (Get-CzReparseOnPath $full)
}

# Remove a loader's folder once its files are gone (src/runtime/ops.rs,
# RemoveFolder): only if it holds nothing but files the plan deletes (by
# name, with that SHA-256; they go first), never a subfolder, never
# through a link; the folder itself with a non-recursive delete, so what
# appears meanwhile keeps it.
function Invoke-CzRemoveFolder($Op) {
    $path = Get-CzField $Op 'path'
    $names = Get-CzFields $Op 'held_name'
    $shas = Get-CzFields $Op 'held_sha256'
    $unsafe = Get-CzFolderUnsafeReason $path
    if ($unsafe -ne '') { Write-CzOutcome 'failed' $unsafe; return }
    if (-not [System.IO.Directory]::Exists($path)) {
        if ([System.IO.File]::Exists($path)) { Write-CzOutcome 'drift' ('a file, not a folder, is at ' + $path); return }
        Write-CzOutcome 'already_absent' ''
        return
    }
    $held = New-Object System.Collections.ArrayList
    $other = New-Object System.Collections.ArrayList
    foreach ($e in [System.IO.Directory]::GetFileSystemEntries($path)) {
        $name = [System.IO.Path]::GetFileName($e)
        $at = -1
        for ($n = 0; $n -lt $names.Count; $n++) { if (Test-CzSameName ([string]$names[$n]) $name) { $at = $n } }
        $attrs = [int][System.IO.File]::GetAttributes($e)
        if (($attrs -band 0x10) -ne 0) { [void]$other.Add($name + ' (a folder)'); continue }
        if (($attrs -band 0x400) -ne 0) { [void]$other.Add($name + ' (a link)'); continue }
        if ($at -lt 0) { [void]$other.Add($name); continue }
        $sha = ''
        try { $sha = Get-CzSha256 $e } catch { [void]$other.Add($name + ' (not readable: ' + $_.Exception.Message + ')'); continue }
        if ($sha -cne ([string]$shas[$at]).ToLower()) { [void]$other.Add($name + ' (sha256 ' + $sha + ')'); continue }
        [void]$held.Add($e)
    }
    if ($other.Count -gt 0) { Write-CzOutcome 'drift' ('the folder holds ' + [string]::Join(', ', [string[]]$other.ToArray([string])) + ', which the plan does not delete: it stays'); return }
    foreach ($e in $held) {
        try { [System.IO.File]::Delete($e) } catch { Write-CzOutcome 'failed' ('cannot delete ' + $e + ': ' + $_.Exception.Message + ' The folder stays.'); return }
    }
    try { [System.IO.Directory]::Delete($path, $false) } catch { Write-CzOutcome 'failed' ('cannot remove ' + $path + ': ' + $_.Exception.Message); return }
    Write-CzOutcome 'done' ''
}

# ---- writes denied to a shutdown-writer's folder ----

# The deny (src/runtime/purge_steps.rs says who is denied and why): one
# explicit Deny ACE for the job's SID on the folder, inherited by what it
# holds (ContainerInherit, ObjectInherit; PropagationFlags None), of
# CreateFiles (= WriteData on a file), AppendData, WriteExtendedAttributes
# and WriteAttributes: 0x116. Never GENERIC_WRITE, whose mapping holds
# SYNCHRONIZE: a denied SYNCHRONIZE fails every read open of the folder
# (.NET leaves Synchronize out of a Deny rule of these rights). Read,
# list, DELETE, FILE_DELETE_CHILD and WRITE_DAC stay allowed: the operator
# still removes the folder and its files, and lifts the deny.
$script:czDenyMask = 0x116

# The folder's access rules and its DirectoryInfo, through the object's own
# GetAccessControl('Access') (the DACL only: Get-Acl | Set-Acl also writes
# back the owner, which Windows refuses to take from an administrator). On
# PowerShell 6 and later the method is a .NET extension method that
# PowerShell does not bind: called on FileSystemAclExtensions.
function Get-CzDirSecurity($Info) {
    $sections = [System.Security.AccessControl.AccessControlSections]::Access
    if ($PSVersionTable.PSVersion.Major -ge 6) { return [System.IO.FileSystemAclExtensions]::GetAccessControl($Info, $sections) }
    return $Info.GetAccessControl($sections)
}

function Set-CzDirSecurity($Info, $Security) {
    if ($PSVersionTable.PSVersion.Major -ge 6) { [System.IO.FileSystemAclExtensions]::SetAccessControl($Info, $Security); return }
    $Info.SetAccessControl($Security)
}

# Our ACE, exactly: the rule RemoveAccessRuleSpecific is given.
function New-CzDenyRule([string]$Sid) {
    $id = New-Object System.Security.Principal.SecurityIdentifier($Sid)
    $rights = [System.Security.AccessControl.FileSystemRights]$script:czDenyMask
    $inherit = [System.Security.AccessControl.InheritanceFlags]3
    $propagate = [System.Security.AccessControl.PropagationFlags]0
    $deny = [System.Security.AccessControl.AccessControlType]::Deny
    return (New-Object System.Security.AccessControl.FileSystemAccessRule($id, $rights, $inherit, $propagate, $deny))
}

# The explicit rules of $Security that are our ACE (SID, Deny, exactly our
# rights and inheritance), as read: GetAccessRules with SIDs, not names
# (the Access property is an extended member PowerShell 7 lacks without
# its security module).
function Find-CzDenyRules($Security, [string]$Sid) {
    $found = @()
    foreach ($r in $Security.GetAccessRules($true, $false, [System.Security.Principal.SecurityIdentifier])) {
        if ([string]$r.IdentityReference.Value -cne $Sid) { continue }
        if ([int]$r.AccessControlType -ne 1) { continue }
        if ([int]$r.FileSystemRights -ne $script:czDenyMask) { continue }
        if ([int]$r.InheritanceFlags -ne 3 -or [int]$r.PropagationFlags -ne 0) { continue }
        $found += $r
    }
    return ,$found
}

function Write-CzAce([string]$Sid, [string]$State) {
    Write-CzRecord 'ace' @('sid', $Sid, 'rights', ([string]$script:czDenyMask), 'inheritance', '3', 'propagation', '0', 'type', 'deny', 'state', $State)
}

# The folder of a deny step, checked: its DirectoryInfo, or $null with
# the outcome already written.
function Open-CzDenyFolder([string]$Path, [bool]$GoneIsAbsent) {
    $unsafe = Get-CzFolderUnsafeReason $Path
    if ($unsafe -ne '') { Write-CzOutcome 'failed' $unsafe; return $null }
    if ([System.IO.Directory]::Exists($Path)) { return (New-Object System.IO.DirectoryInfo($Path)) }
    if ([System.IO.File]::Exists($Path)) { Write-CzOutcome 'drift' ('a file, not a folder, is at ' + $Path); return $null }
    Write-CzRecord 'folder' @('state', 'gone')
    if ($GoneIsAbsent) { Write-CzOutcome 'already_absent' 'the folder is gone, and its ACEs with it' }
    else { Write-CzOutcome 'drift' ('no folder at ' + $Path + ': no deny was placed (a loader that writes there at shutdown can create it again)') }
    return $null
}

# A deny op's folder: @(path, sid, DirectoryInfo, its security), or $null
# when there is no folder (Open-CzDenyFolder has written the outcome).
function Open-CzDenyOp($Op, [bool]$GoneIsAbsent) {
    $path = Get-CzField $Op 'folder'
    $info = Open-CzDenyFolder $path $GoneIsAbsent
    if ($null -eq $info) { return $null }
    return @($path, (Get-CzField $Op 'sid'), $info, (Get-CzDirSecurity $info))
}

# Whether the folder holds the deny for $Sid, read back from the folder,
# not from the object just written.
function Test-CzDenyOn([string]$Path, [string]$Sid) {
    $now = Get-CzDirSecurity (New-Object System.IO.DirectoryInfo($Path))
    return ((Find-CzDenyRules $now $Sid).Count -gt 0)
}

function Invoke-CzDenyWrites($Op) {
    $t = Open-CzDenyOp $Op $false
    if ($null -eq $t) { return }
    $path = $t[0]; $sid = $t[1]; $info = $t[2]; $sec = $t[3]
    $had = (Find-CzDenyRules $sec $sid).Count -gt 0
    if (-not $had) {
        $sec.AddAccessRule((New-CzDenyRule $sid))
        try { Set-CzDirSecurity $info $sec } catch { Write-CzOutcome 'failed' ('cannot set the deny on ' + $path + ': ' + $_.Exception.Message); return }
    }
    if (-not (Test-CzDenyOn $path $sid)) { Write-CzOutcome 'failed' ('the deny on ' + $path + ' is not read back'); return }
    if ($had) { Write-CzAce $sid 'present'; Write-CzOutcome 'done' 'already denied: the same ACE was there, nothing changed' }
    else { Write-CzAce $sid 'added'; Write-CzOutcome 'done' '' }
}

function Invoke-CzRemoveDenyWrites($Op) {
    $t = Open-CzDenyOp $Op $true
    if ($null -eq $t) { return }
    $path = $t[0]; $sid = $t[1]; $info = $t[2]; $sec = $t[3]
    if ((Find-CzDenyRules $sec $sid).Count -eq 0) { Write-CzOutcome 'already_absent' 'no such deny on the folder'; return }
    [void]$sec.RemoveAccessRuleSpecific((New-CzDenyRule $sid))
    try { Set-CzDirSecurity $info $sec } catch { Write-CzOutcome 'failed' ('cannot lift the deny on ' + $path + ': ' + $_.Exception.Message); return }
    if (Test-CzDenyOn $path $sid) { Write-CzOutcome 'failed' ('the deny on ' + $path + ' is still read back'); return }
    Write-CzAce $sid 'removed'
    Write-CzOutcome 'done' ''
}

# ---- Defender exclusions ----

# The exclusion lists of Defender and of MSE/SCEP, and the parameter of
# Remove-MpPreference that removes from each ('' : no parameter, the
# registry only). A list under SOFTWARE\Policies is Group Policy's or an
# MDM's: it comes back at the next refresh, and is never touched here.
function Get-CzExclusionList([string]$Key) {
    $k = $Key.ToLowerInvariant()
    if ($k.StartsWith('software\policies\')) { return @('policy', '') }
    $stores = @('software\microsoft\windows defender\exclusions\', 'software\microsoft\microsoft antimalware\exclusions\')
    $params = @{ 'paths' = 'ExclusionPath'; 'extensions' = 'ExclusionExtension'; 'processes' = 'ExclusionProcess'; 'temporarypaths' = '' }
    for ($s = 0; $s -lt $stores.Count; $s++) {
        if (-not $k.StartsWith($stores[$s])) { continue }
        $list = $k.Substring($stores[$s].Length)
        if (-not $params.ContainsKey($list)) { return @('', '') }
        # MSE/SCEP have no cmdlet: their lists go through the registry.
        if ($s -eq 1) { return @('antimalware', '') }
        return @('defender', $params[$list])
    }
    return @('', '')
}

# Is the value still listed? @(present, why it could not be read or '').
function Test-CzExclusion([string]$Key, [string]$Name) {
    $k = $null
    try { $k = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey($Key, $false) } catch { return @($false, $_.Exception.Message) }
    if ($null -eq $k) { return @($false, '') }
    try {
        foreach ($n in $k.GetValueNames()) { if (Test-CzSameName $n $Name) { return @($true, '') } }
        return @($false, '')
    } finally { $k.Close() }
}

# Compare-and-delete of one exclusion the scan saw: through Defender's
# own interface where it exists (Remove-MpPreference, Windows 8 and
# later), else the registry value itself; read back either way. Tamper
# Protection makes Remove-MpPreference succeed silently and the registry
# refuse even SYSTEM: the read-back tells, and the host needs a person.
function Invoke-CzRevertDefenderExclusion($Op) {
    $hive = Get-CzField $Op 'hive'
    $key = Get-CzField $Op 'key'
    $name = Get-CzField $Op 'value'
    if ($hive -ne 'HKLM') { Write-CzOutcome 'failed' ('Defender exclusions live under HKLM, not ' + $hive); return }
    $list = Get-CzExclusionList $key
    if ($list[0] -eq 'policy') { Write-CzOutcome 'needs_person' ('set by policy (HKLM\' + $key + '): not touched; remove it from the Group Policy or MDM profile that sets it, or it comes back at the next refresh'); return }
    if ($list[0] -eq '') { Write-CzOutcome 'failed' ('HKLM\' + $key + ' is not a Defender exclusion list: not touched'); return }
    $seen = Test-CzExclusion $key $name
    if ($seen[1] -ne '') { Write-CzOutcome 'needs_person' ('cannot read HKLM\' + $key + ': ' + $seen[1]); return }
    if (-not $seen[0]) { Write-CzOutcome 'already_absent' ''; return }
    $how = ''
    $why = New-Object System.Collections.ArrayList
    $cmd = $null
    if ($list[1] -ne '') { $cmd = Get-Command Remove-MpPreference -ErrorAction SilentlyContinue }
    if ($null -ne $cmd) {
        $params = @{}
        $params[$list[1]] = $name
        try { Remove-MpPreference @params -ErrorAction Stop; $how = 'Remove-MpPreference' } catch { [void]$why.Add('Remove-MpPreference: ' + $_.Exception.Message) }
    }
    if ((Test-CzExclusion $key $name)[0]) {
        $k = $null
        try {
            $k = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey($key, $true)
            if ($null -ne $k) { $k.DeleteValue($name, $false); $how = 'the registry' }
        } catch { [void]$why.Add('the registry: ' + $_.Exception.Message) } finally { if ($null -ne $k) { $k.Close() } }
    }
    $left = Test-CzExclusion $key $name
    if ($left[0]) {
        $said = ''
        if ($why.Count -gt 0) { $said = ' (' + [string]::Join('; ', [string[]]$why.ToArray([string])) + ')' }
        Write-CzOutcome 'needs_person' ('the exclusion is still there after removing it' + $said + ': Tamper Protection or the key''s permissions keep it; remove it in Windows Security or from the management console that protects it')
        return
    }
    Write-CzRecord 'removed_by' @('how', $how)
    Write-CzOutcome 'done' ''
}

# ---- the job ----

function Get-CzBounds($Op) {
    $b = @{}
    foreach ($n in @('max_values_per_key', 'max_items', 'max_field_bytes', 'max_binary_bytes', 'max_listing', 'max_hash_bytes', 'max_output_bytes', 'time_limit_secs')) {
        $b[$n] = [long](Get-CzField $Op $n)
    }
    return $b
}

function Invoke-CzRuntime([string]$JobText) {
    $ErrorActionPreference = 'Stop'
    [Console]::Out.Write("CZBEGIN 1`r`n")
    $items = $null
    try {
        $items = Read-CzJob $JobText
    } catch {
        Write-CzRecord 'error' @('reason', $_.Exception.Message)
        [Console]::Out.Write('CZEND ' + $script:czCount + "`r`n")
        return
    }
    foreach ($op in $items) {
        if ($op.Kind -eq 'Collect' -or $op.Kind -eq 'FileFacts' -or $op.Kind -eq 'Sweep' -or $op.Kind -eq 'RegistryValues') {
            $b = Get-CzBounds $op
            $script:czBudget = $b['max_output_bytes']
            $script:czMaxField = $b['max_field_bytes']
            $script:czDeadline = [DateTime]::UtcNow.AddSeconds($b['time_limit_secs'])
            break
        }
    }
    for ($i = 0; $i -lt $items.Count; $i++) {
        $script:czItem = $i
        $script:czTruncCount = 0
        $op = $items[$i]
        try {
            switch ($op.Kind) {
                'Collect' { Invoke-CzCollect (Get-CzBounds $op) }
                'FileFacts' { Invoke-CzFileFacts $op (Get-CzBounds $op) }
                'Sweep' { Invoke-CzSweep $op (Get-CzBounds $op) }
                'RegistryValues' { Invoke-CzRegistryValues $op (Get-CzBounds $op) }
                'ReadFile' { Invoke-CzReadFile $op }
                'Events' { Invoke-CzEvents $op }
                'KillProcess' { Invoke-CzKillProcess $op }
                'DeleteRegistryValue' { Invoke-CzDeleteRegistryValue $op }
                'DeleteTask' { Invoke-CzDeleteTask $op }
                'DeleteService' { Invoke-CzDeleteService $op }
                'DeleteWmiSubscription' { Invoke-CzDeleteWmiSubscription $op }
                'DeleteFile' { Invoke-CzDeleteFile $op }
                'QueueDeleteOnReboot' { Invoke-CzQueueDeleteOnReboot $op }
                'BootTime' { Invoke-CzBootTime }
                'Reboot' { Invoke-CzReboot $op }
                'AbortReboot' { Invoke-CzAbortReboot }
                'LoggedOnUsers' { Invoke-CzLoggedOnUsers }
                'Contain' { Invoke-CzContain $op }
                'ExtendDeadman' { Invoke-CzExtendDeadman $op }
                'Release' { Invoke-CzRelease $op }
                'DeleteRegistryKey' { Invoke-CzDeleteRegistryKey $op }
                'RemoveFolder' { Invoke-CzRemoveFolder $op }
                'DenyWrites' { Invoke-CzDenyWrites $op }
                'RemoveDenyWrites' { Invoke-CzRemoveDenyWrites $op }
                'RevertDefenderExclusion' { Invoke-CzRevertDefenderExclusion $op }
                default { Write-CzRecord 'error' @('reason', ('unknown operation ' + $op.Kind)) }
            }
        } catch {
            Write-CzRecord 'error' @('reason', $_.Exception.Message)
        }
        Close-CzItem
    }
    [Console]::Out.Write('CZEND ' + $script:czCount + "`r`n")
    [Console]::Out.Flush()
}
# The job data and the call that runs it follow.
