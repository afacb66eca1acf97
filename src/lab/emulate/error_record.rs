//! PowerShell error records as Windows PowerShell 5.1 prints them on a
//! non-interactive host (the NormalView: message, position, CategoryInfo,
//! FullyQualifiedErrorId, then a line holding one space), wrapped at the
//! 120-column buffer width that a WinRM shell gives powershell.exe.

/// Width at which PowerShell wraps error lines over WinRM.
pub const HOST_WIDTH: usize = 120;

/// Line and column lookup for a script (precomputed line starts, so each
/// lookup is a binary search).
#[derive(Debug)]
pub struct SourceMap<'a> {
    src: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> SourceMap<'a> {
    pub fn new(src: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Self { src, line_starts }
    }

    /// The position message for a span: `At line:L char:C`, the line
    /// (leading blanks trimmed) and `~` under the span.
    pub fn position(&self, start: usize, end: usize) -> Vec<String> {
        let start = start.min(self.src.len());
        let line_idx = self.line_starts.partition_point(|&s| s <= start).saturating_sub(1);
        let line_start = self.line_starts.get(line_idx).copied().unwrap_or(0);
        let line_end = self.line_starts.get(line_idx + 1).map(|e| e - 1).unwrap_or(self.src.len());
        let line = self.src.get(line_start..line_end).unwrap_or("").trim_end_matches('\r');
        let col = self.src.get(line_start..start).map(|p| p.chars().count()).unwrap_or(0);
        let trimmed = line.trim_start();
        let indent = line.chars().count() - trimmed.chars().count();
        let span_end = end.min(line_start + line.len()).max(start);
        let width = self.src.get(start..span_end).map(|s| s.chars().count()).unwrap_or(0).max(1);
        vec![
            format!("At line:{} char:{}", line_idx + 1, col + 1),
            format!("+ {trimmed}"),
            format!("+ {}{}", " ".repeat(col.saturating_sub(indent)), "~".repeat(width)),
        ]
    }
}

/// CategoryInfo, FullyQualifiedErrorId and the closing blank line.
fn trailer(category: &str, error_id: &str) -> Vec<String> {
    vec![
        format!("    + CategoryInfo          : {category}"),
        format!("    + FullyQualifiedErrorId : {error_id}"),
        " ".to_string(),
    ]
}

/// Assemble and wrap a record.
fn record(message: Vec<String>, position: Vec<String>, category: &str, error_id: &str) -> Vec<String> {
    let lines = message.into_iter().chain(position).chain(trailer(category, error_id));
    lines.flat_map(|l| wrap(&l, HOST_WIDTH)).collect()
}

/// Split a line the way the console host wraps it: at most `width`
/// characters a line, broken after a space where there is one.
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= width || width == 0 {
        return vec![line.to_string()];
    }
    let mut out = Vec::new();
    let mut rest = &chars[..];
    while rest.len() > width {
        let cut = rest[..width].iter().rposition(|&c| c == ' ').map(|i| i + 1).filter(|&i| i > 0).unwrap_or(width);
        out.push(rest[..cut].iter().collect());
        rest = &rest[cut..];
    }
    if !rest.is_empty() {
        out.push(rest.iter().collect());
    }
    out
}

/// `foo` that names no command.
pub fn command_not_found(name: &str, position: Vec<String>) -> Vec<String> {
    record(
        vec![format!(
            "{name} : The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable \
             program. Check the spelling of the name, or if a path was included, verify that the path is correct and \
             try again."
        )],
        position,
        &format!("ObjectNotFound: ({name}:String) [], CommandNotFoundException"),
        "CommandNotFoundException",
    )
}

/// `Write-Error 'msg'` at the top level of a `-Command` script: PowerShell
/// prefixes the message with the whole script text.
pub fn write_error(script: &str, message: &str) -> Vec<String> {
    let text = format!("{} : {message}", script.trim_end_matches(['\r', '\n']));
    let lines: Vec<String> = text.split('\n').map(|l| l.trim_end_matches('\r').to_string()).collect();
    record(
        lines,
        Vec::new(),
        "NotSpecified: (:) [Write-Error], WriteErrorException",
        "Microsoft.PowerShell.Commands.WriteErrorException",
    )
}

/// `throw 'msg'` (or a bare `throw`: "ScriptHalted").
pub fn thrown(message: Option<&str>, position: Vec<String>) -> Vec<String> {
    match message {
        Some(m) => record(
            vec![m.to_string()],
            position,
            &format!("OperationStopped: ({m}:String) [], RuntimeException"),
            m,
        ),
        None => record(
            vec!["ScriptHalted".to_string()],
            position,
            "OperationStopped: (:) [], RuntimeException",
            "ScriptHalted",
        ),
    }
}

/// The script does not parse; nothing ran.
pub fn parse_error(message: &str, error_id: &str, position: Vec<String>) -> Vec<String> {
    let mut lines = position;
    lines.push(message.to_string());
    lines.into_iter()
        .chain(trailer("ParserError: (:) [], ParentContainsErrorRecordException", error_id))
        .flat_map(|l| wrap(&l, HOST_WIDTH))
        .collect()
}

/// A named parameter the cmdlet does not have.
pub fn parameter_not_found(command: &str, cmdlet_class: &str, parameter: &str, position: Vec<String>) -> Vec<String> {
    record(
        vec![format!("{command} : A parameter cannot be found that matches parameter name '{parameter}'.")],
        position,
        &format!("InvalidArgument: (:) [{command}], ParameterBindingException"),
        &format!("NamedParameterNotFound,{cmdlet_class}"),
    )
}

/// A positional argument the cmdlet has no place for.
pub fn positional_not_found(command: &str, cmdlet_class: &str, argument: &str, position: Vec<String>) -> Vec<String> {
    record(
        vec![format!("{command} : A positional parameter cannot be found that accepts argument '{argument}'.")],
        position,
        &format!("InvalidArgument: (:) [{command}], ParameterBindingException"),
        &format!("PositionalParameterNotFound,{cmdlet_class}"),
    )
}

/// A parameter given without the value it needs.
pub fn missing_argument(command: &str, cmdlet_class: &str, parameter: &str, kind: &str, position: Vec<String>) -> Vec<String> {
    record(
        vec![format!(
            "{command} : Missing an argument for parameter '{parameter}'. Specify a parameter of type '{kind}' and try again."
        )],
        position,
        &format!("InvalidArgument: (:) [{command}], ParameterBindingException"),
        &format!("MissingArgument,{cmdlet_class}"),
    )
}

/// A value that does not convert to the parameter's type.
pub fn bad_argument(command: &str, cmdlet_class: &str, parameter: &str, value: &str, kind: &str, position: Vec<String>) -> Vec<String> {
    record(
        vec![format!(
            "{command} : Cannot bind parameter '{parameter}'. Cannot convert value \"{value}\" to type \"{kind}\". Error: \
             \"Input string was not in a correct format.\""
        )],
        position,
        &format!("InvalidArgument: (:) [{command}], ParameterBindingException"),
        &format!("CannotConvertArgumentNoMessage,{cmdlet_class}"),
    )
}

/// Something the lab's emulator does not do. Real PowerShell would run it;
/// the lab says plainly that it did not, rather than pretend.
pub fn unsupported(what: &str, position: Vec<String>) -> Vec<String> {
    record(
        vec![format!("The cauterize lab's PowerShell emulator does not support this: {what}")],
        position,
        "NotImplemented: (:) [], NotSupportedException",
        "LabEmulatorUnsupported",
    )
}

/// A line a native program wrote on stderr: PowerShell wraps it in a
/// `NativeCommandError` record when powershell.exe's output is redirected,
/// as it is in a WinRM shell.
pub fn native_error(command: &str, message: &str, position: Vec<String>) -> Vec<String> {
    let mut lines: Vec<String> = message.lines().map(str::to_string).collect();
    let category = format!("NotSpecified: ({}:String) [], RemoteException", ellipsize(lines.first().map_or("", |l| l)));
    if let Some(first) = lines.first_mut() {
        *first = format!("{command} : {first}");
    }
    record(lines, position, &category, "NativeCommandError")
}

/// `Restart-Computer` could not restart the computer; `message` is the
/// Win32 error's text.
pub fn restart_failed(computer: &str, message: &str, position: Vec<String>) -> Vec<String> {
    record(
        vec![format!(
            "Restart-Computer : Failed to restart the computer {computer} with the following error message: {message}"
        )],
        position,
        &format!("OperationStopped: ({computer}:String) [Restart-Computer], InvalidOperationException"),
        "RestartcomputerFailed,Microsoft.PowerShell.Commands.RestartComputerCommand",
    )
}

/// A CategoryInfo target as PowerShell shortens it: over 40 characters,
/// the first and last 15 around `...`.
fn ellipsize(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= 40 {
        return text.to_string();
    }
    let head: String = chars[..15].iter().collect();
    let tail: String = chars[chars.len() - 15..].iter().collect();
    format!("{head}...{tail}")
}

/// An exception from a .NET method call (terminating under
/// `$ErrorActionPreference = 'Stop'`).
pub fn method_exception(method: &str, argc: usize, message: &str, error_id: &str, position: Vec<String>) -> Vec<String> {
    let text = format!("Exception calling \"{method}\" with \"{argc}\" argument(s): \"{message}\"");
    record(
        text.split('\n').map(|l| l.trim_end_matches('\r').to_string()).collect(),
        position,
        "NotSpecified: (:) [], MethodInvocationException",
        error_id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_names_line_and_column_and_underlines_the_span() {
        let src = "echo 1\n    foo bar\n";
        let map = SourceMap::new(src);
        let start = src.find("foo").unwrap_or(0);
        assert_eq!(map.position(start, start + 3), vec!["At line:2 char:5", "+ foo bar", "+ ~~~"]);
    }

    #[test]
    fn not_found_message_wraps_at_host_width_like_powershell() {
        let lines = command_not_found("foo", Vec::new());
        assert!(lines[0].ends_with("Check the "), "{lines:?}");
        assert!(lines.iter().all(|l| l.chars().count() <= HOST_WIDTH));
        assert_eq!(lines.last().map(String::as_str), Some(" "));
        assert!(lines.contains(&"    + FullyQualifiedErrorId : CommandNotFoundException".to_string()));
    }

    #[test]
    fn wrap_breaks_long_words_hard() {
        let long = "x".repeat(250);
        assert_eq!(wrap(&long, 120).iter().map(|l| l.len()).collect::<Vec<_>>(), vec![120, 120, 10]);
    }

    #[test]
    fn write_error_prefixes_the_script_text() {
        let lines = write_error("Write-Error 'boom'", "boom");
        assert_eq!(lines[0], "Write-Error 'boom' : boom");
        assert_eq!(lines[1], "    + CategoryInfo          : NotSpecified: (:) [Write-Error], WriteErrorException");
    }
}
