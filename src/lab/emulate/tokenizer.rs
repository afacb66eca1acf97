//! A small PowerShell tokenizer: enough of the language for the lab's
//! emulator. It knows single- and double-quoted strings (`''`, `""` and
//! backtick escapes, `$var` expansion parts), `#` line comments, `<# #>`
//! block comments, line continuation with a trailing backtick, variables,
//! type literals, member access, and splits statements on `;` and newlines
//! outside parentheses and braces. One pass over the text: linear time.

/// A quoted string's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrLit {
    /// `'...'`: verbatim.
    Single(String),
    /// `"..."`: literal parts and variables to expand.
    Double(Vec<StrPart>),
}

/// A piece of a double-quoted string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrPart {
    Lit(String),
    /// `$name` or `${name}` (e.g. `env:USERNAME`).
    Var(String),
    /// `$( ... )`, kept as source text (the emulator does not run it).
    SubExpr(String),
}

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// A bare word: command name, argument, parameter (`-Seconds`), number,
    /// or a member name after `.` / `::`.
    Word(String),
    Str(StrLit),
    /// A variable, without its `$`.
    Var(String),
    /// A type literal `[Name]`, without the brackets.
    Type(String),
    /// Member access `.` (only directly after a value).
    Dot,
    /// Static member access `::`.
    ColonColon,
    LParen,
    RParen,
    Comma,
    /// Any other operator character (`|`, `=`, `{`, `&`, ...): the emulator
    /// does not support these and says so.
    Other(char),
}

/// A token and where it is in the script (byte offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
    /// Whitespace (or a comment) separates it from the previous token.
    pub space_before: bool,
}

/// One statement: its tokens and its span in the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub tokens: Vec<Token>,
    pub start: usize,
    pub end: usize,
}

/// Why the script could not be parsed (PowerShell runs nothing then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset where the problem is reported.
    pub offset: usize,
    /// Byte length to underline.
    pub len: usize,
    pub message: String,
    /// PowerShell's FullyQualifiedErrorId for it.
    pub id: &'static str,
}

const SINGLE_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];
const DOUBLE_QUOTES: [char; 4] = ['"', '\u{201C}', '\u{201D}', '\u{201E}'];
/// Characters that end a bare word.
const WORD_END: [char; 9] = [';', '(', ')', '{', '}', ',', '|', '\'', '"'];
/// Characters that are operators when they start a token.
const OPERATORS: [char; 13] = ['|', '&', '=', '{', '}', ']', '>', '<', '!', '+', '*', '%', '@'];

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '?'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

struct Lexer<'a> {
    src: &'a str,
    chars: Vec<(usize, char)>,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).map(|&(_, c)| c)
    }

    fn offset(&self) -> usize {
        self.chars.get(self.pos).map(|&(o, _)| o).unwrap_or(self.src.len())
    }

    fn error(&self, offset: usize, len: usize, message: &str, id: &'static str) -> ParseError {
        ParseError { offset, len, message: message.to_string(), id }
    }

    /// `'...'` starting at the opening quote.
    fn single_quoted(&mut self) -> Result<StrLit, ParseError> {
        let open = self.offset();
        self.pos += 1;
        let mut text = String::new();
        loop {
            match self.peek(0) {
                None => {
                    return Err(self.error(
                        open,
                        self.src.len() - open,
                        "The string is missing the terminator: '.",
                        "TerminatorExpectedAtEndOfString",
                    ));
                }
                Some(c) if SINGLE_QUOTES.contains(&c) => {
                    if self.peek(1).is_some_and(|n| SINGLE_QUOTES.contains(&n)) {
                        text.push(c);
                        self.pos += 2;
                    } else {
                        self.pos += 1;
                        return Ok(StrLit::Single(text));
                    }
                }
                Some(c) => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// `"..."` starting at the opening quote.
    fn double_quoted(&mut self) -> Result<StrLit, ParseError> {
        let open = self.offset();
        self.pos += 1;
        let mut parts = Vec::new();
        let mut text = String::new();
        let unterminated = |lx: &Self| {
            lx.error(
                open,
                lx.src.len() - open,
                "The string is missing the terminator: \".",
                "TerminatorExpectedAtEndOfString",
            )
        };
        loop {
            let Some(c) = self.peek(0) else { return Err(unterminated(self)) };
            if DOUBLE_QUOTES.contains(&c) {
                if self.peek(1).is_some_and(|n| DOUBLE_QUOTES.contains(&n)) {
                    text.push(c);
                    self.pos += 2;
                    continue;
                }
                self.pos += 1;
                if !text.is_empty() {
                    parts.push(StrPart::Lit(text));
                }
                return Ok(StrLit::Double(parts));
            }
            if c == '`' {
                let Some(e) = self.peek(1) else { return Err(unterminated(self)) };
                text.push(match e {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    '0' => '\0',
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'v' => '\u{b}',
                    other => other,
                });
                self.pos += 2;
                continue;
            }
            if c == '$'
                && let Some(part) = self.string_variable() {
                    if !text.is_empty() {
                        parts.push(StrPart::Lit(std::mem::take(&mut text)));
                    }
                    parts.push(part);
                    continue;
                }
            text.push(c);
            self.pos += 1;
        }
    }

    /// `$name`, `${name}` or `$(...)` inside a double-quoted string, at `$`.
    /// `None` (nothing consumed) when the `$` is literal.
    fn string_variable(&mut self) -> Option<StrPart> {
        match self.peek(1) {
            Some('(') => {
                let start = self.pos;
                let mut depth = 0usize;
                let mut i = self.pos + 1;
                while let Some(&(_, c)) = self.chars.get(i) {
                    if c == '(' {
                        depth += 1;
                    } else if c == ')' {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    i += 1;
                }
                self.chars.get(i)?;
                let from = self.chars[start].0;
                let to = self.chars[i].0 + 1;
                self.pos = i + 1;
                Some(StrPart::SubExpr(self.src[from..to].to_string()))
            }
            Some('{') => {
                let mut i = self.pos + 2;
                let mut name = String::new();
                while let Some(&(_, c)) = self.chars.get(i) {
                    if c == '}' {
                        self.pos = i + 1;
                        return Some(StrPart::Var(name));
                    }
                    name.push(c);
                    i += 1;
                }
                None
            }
            Some(c) if is_name_char(c) => {
                self.pos += 1;
                Some(StrPart::Var(self.variable_name()))
            }
            _ => None,
        }
    }

    /// A variable name after `$`: name characters, with one `scope:` or
    /// `drive:` prefix (`env:USERNAME`).
    fn variable_name(&mut self) -> String {
        let mut name = String::new();
        let mut colon_used = false;
        while let Some(c) = self.peek(0) {
            if is_name_char(c) {
                name.push(c);
                self.pos += 1;
            } else if c == ':' && !colon_used && !name.is_empty() && self.peek(1).is_some_and(is_name_char) {
                colon_used = true;
                name.push(c);
                self.pos += 1;
            } else {
                break;
            }
        }
        name
    }

    fn identifier(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek(0).filter(|&c| is_ident_char(c)) {
            name.push(c);
            self.pos += 1;
        }
        name
    }

    /// `[Type.Name]` at `[` (nested brackets for generic types).
    fn type_literal(&mut self) -> Result<String, ParseError> {
        let open = self.offset();
        let mut depth = 0usize;
        let mut name = String::new();
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            match c {
                '[' => {
                    depth += 1;
                    if depth > 1 {
                        name.push(c);
                    }
                }
                ']' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(name.trim().to_string());
                    }
                    name.push(c);
                }
                '\n' | '\r' => break,
                c => name.push(c),
            }
        }
        Err(self.error(open, 1, "Missing ] at end of attribute or type literal.", "EndSquareBracketExpectedAtEndOfAttribute"))
    }

    /// A bare word, with backtick escapes.
    fn word(&mut self) -> String {
        let mut text = String::new();
        while let Some(c) = self.peek(0) {
            if c.is_whitespace() || WORD_END.contains(&c) || SINGLE_QUOTES.contains(&c) || DOUBLE_QUOTES.contains(&c) {
                break;
            }
            if c == '`' {
                match self.peek(1) {
                    Some('\n') | Some('\r') | None => break,
                    Some(e) => {
                        text.push(e);
                        self.pos += 2;
                        continue;
                    }
                }
            }
            text.push(c);
            self.pos += 1;
        }
        text
    }
}

/// Split a script into statements of tokens.
pub fn tokenize(src: &str) -> Result<Vec<Statement>, ParseError> {
    let mut lx = Lexer { src, chars: src.char_indices().collect(), pos: 0 };
    let mut statements = Vec::new();
    let mut current: Vec<Token> = Vec::new();
    let mut depth: Vec<(char, usize)> = Vec::new();
    let mut space_before = true;

    let flush = |current: &mut Vec<Token>, statements: &mut Vec<Statement>| {
        if let (Some(first), Some(last)) = (current.first(), current.last()) {
            let (start, end) = (first.start, last.end);
            statements.push(Statement { tokens: std::mem::take(current), start, end });
        }
    };

    while let Some(c) = lx.peek(0) {
        let start = lx.offset();
        // Whitespace, separators, comments, continuations.
        if c == '\n' || c == ';' {
            lx.pos += 1;
            space_before = true;
            if depth.is_empty() {
                flush(&mut current, &mut statements);
            }
            continue;
        }
        if c.is_whitespace() {
            lx.pos += 1;
            space_before = true;
            continue;
        }
        if c == '`' && matches!(lx.peek(1), Some('\n') | Some('\r')) {
            lx.pos += if lx.peek(1) == Some('\r') && lx.peek(2) == Some('\n') { 3 } else { 2 };
            space_before = true;
            continue;
        }
        if c == '#' && space_before {
            while lx.peek(0).is_some_and(|c| c != '\n') {
                lx.pos += 1;
            }
            continue;
        }
        if c == '<' && lx.peek(1) == Some('#') && space_before {
            lx.pos += 2;
            loop {
                match lx.peek(0) {
                    None => {
                        return Err(lx.error(start, 2, "Missing the terminator '#>' of a block comment.", "MissingEndOfComment"));
                    }
                    Some('#') if lx.peek(1) == Some('>') => {
                        lx.pos += 2;
                        break;
                    }
                    Some(_) => lx.pos += 1,
                }
            }
            space_before = true;
            continue;
        }

        let after_value = !space_before
            && matches!(
                current.last().map(|t| &t.tok),
                Some(Tok::Var(_)) | Some(Tok::Type(_)) | Some(Tok::RParen) | Some(Tok::Str(_))
            )
            || !space_before
                && current.len() >= 2
                && matches!(current.last().map(|t| &t.tok), Some(Tok::Word(_)))
                && matches!(current.get(current.len() - 2).map(|t| &t.tok), Some(Tok::Dot) | Some(Tok::ColonColon));

        let tok = if SINGLE_QUOTES.contains(&c) {
            Tok::Str(lx.single_quoted()?)
        } else if DOUBLE_QUOTES.contains(&c) {
            Tok::Str(lx.double_quoted()?)
        } else if c == '$' && lx.peek(1).is_some_and(is_name_char) {
            lx.pos += 1;
            Tok::Var(lx.variable_name())
        } else if c == '$' && lx.peek(1) == Some('{') {
            lx.pos += 2;
            let mut name = String::new();
            loop {
                match lx.peek(0) {
                    None => return Err(lx.error(start, 2, "Missing '}' at end of variable name.", "MissingEndCurlyBrace")),
                    Some('}') => {
                        lx.pos += 1;
                        break;
                    }
                    Some(ch) => {
                        name.push(ch);
                        lx.pos += 1;
                    }
                }
            }
            Tok::Var(name)
        } else if c == '.' && after_value && lx.peek(1).is_some_and(is_ident_char) {
            lx.pos += 1;
            current.push(Token { tok: Tok::Dot, start, end: start + 1, space_before });
            let member_start = lx.offset();
            let name = lx.identifier();
            current.push(Token { tok: Tok::Word(name), start: member_start, end: lx.offset(), space_before: false });
            space_before = false;
            continue;
        } else if c == ':' && lx.peek(1) == Some(':') && matches!(current.last().map(|t| &t.tok), Some(Tok::Type(_))) {
            lx.pos += 2;
            current.push(Token { tok: Tok::ColonColon, start, end: start + 2, space_before });
            let member_start = lx.offset();
            let name = lx.identifier();
            current.push(Token { tok: Tok::Word(name), start: member_start, end: lx.offset(), space_before: false });
            space_before = false;
            continue;
        } else if c == '[' && !after_value {
            Tok::Type(lx.type_literal()?)
        } else if c == '(' {
            lx.pos += 1;
            depth.push(('(', start));
            Tok::LParen
        } else if c == ')' {
            lx.pos += 1;
            match depth.pop() {
                Some(('(', _)) => {}
                _ => return Err(lx.error(start, 1, "Unexpected token ')' in expression or statement.", "UnexpectedToken")),
            }
            Tok::RParen
        } else if c == '{' {
            lx.pos += 1;
            depth.push(('{', start));
            Tok::Other('{')
        } else if c == '}' {
            lx.pos += 1;
            match depth.pop() {
                Some(('{', _)) => {}
                _ => return Err(lx.error(start, 1, "Unexpected token '}' in expression or statement.", "UnexpectedToken")),
            }
            Tok::Other('}')
        } else if c == ',' {
            lx.pos += 1;
            Tok::Comma
        } else if OPERATORS.contains(&c) || c == '$' || c == '[' {
            lx.pos += 1;
            Tok::Other(c)
        } else {
            let w = lx.word();
            if w.is_empty() {
                // A lone backtick at the end of the text, or similar.
                lx.pos += 1;
                space_before = true;
                continue;
            }
            Tok::Word(w)
        };
        current.push(Token { tok, start, end: lx.offset(), space_before });
        space_before = false;
    }
    if let Some(&(open, at)) = depth.last() {
        let (message, id) = if open == '(' {
            ("Missing closing ')' in expression.", "MissingEndParenthesisInExpression")
        } else {
            ("Missing closing '}' in statement block or type definition.", "MissingEndCurlyBrace")
        };
        return Err(lx.error(at, 1, message, id));
    }
    flush(&mut current, &mut statements);
    Ok(statements)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Vec<Tok>> {
        tokenize(src)
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.tokens.into_iter().map(|t| t.tok).collect())
            .collect()
    }

    fn word(s: &str) -> Tok {
        Tok::Word(s.to_string())
    }

    #[test]
    fn statements_split_on_semicolons_and_newlines() {
        assert_eq!(toks("a b; c\r\nd"), vec![vec![word("a"), word("b")], vec![word("c")], vec![word("d")]]);
    }

    #[test]
    fn single_quotes_double_to_escape_and_keep_backticks() {
        assert_eq!(toks("'it''s `n'"), vec![vec![Tok::Str(StrLit::Single("it's `n".into()))]]);
    }

    #[test]
    fn double_quotes_take_backticks_and_variables() {
        assert_eq!(
            toks(r#""a`tb ""q"" `$x $env:USERNAME!""#),
            vec![vec![Tok::Str(StrLit::Double(vec![
                StrPart::Lit("a\tb \"q\" $x ".into()),
                StrPart::Var("env:USERNAME".into()),
                StrPart::Lit("!".into()),
            ]))]]
        );
    }

    #[test]
    fn comments_are_skipped_but_hash_inside_words_and_strings_stays() {
        assert_eq!(
            toks("a # comment ; b\n<# block\n; c #> d 'x # y' e#f"),
            vec![
                vec![word("a")],
                vec![word("d"), Tok::Str(StrLit::Single("x # y".into())), word("e#f")],
            ]
        );
    }

    #[test]
    fn member_access_and_static_members() {
        assert_eq!(
            toks("$PSVersionTable.PSVersion.ToString()"),
            vec![vec![
                Tok::Var("PSVersionTable".into()),
                Tok::Dot,
                word("PSVersion"),
                Tok::Dot,
                word("ToString"),
                Tok::LParen,
                Tok::RParen,
            ]]
        );
        assert_eq!(
            toks("[Console]::Error.WriteLine('x')"),
            vec![vec![
                Tok::Type("Console".into()),
                Tok::ColonColon,
                word("Error"),
                Tok::Dot,
                word("WriteLine"),
                Tok::LParen,
                Tok::Str(StrLit::Single("x".into())),
                Tok::RParen,
            ]]
        );
        // A dot after a space starts a word; a version number stays whole.
        assert_eq!(toks("echo 5.1 .x"), vec![vec![word("echo"), word("5.1"), word(".x")]]);
    }

    #[test]
    fn newlines_inside_parentheses_and_braces_do_not_split() {
        assert_eq!(toks("f (\n1)\nif ($x) {\n a\n}").len(), 2);
    }

    #[test]
    fn backtick_continues_a_line() {
        assert_eq!(toks("Write-Output `\r\n 'x'"), vec![vec![word("Write-Output"), Tok::Str(StrLit::Single("x".into()))]]);
    }

    #[test]
    fn unterminated_things_are_parse_errors() {
        assert_eq!(tokenize("echo 'abc").map_err(|e| e.id), Err("TerminatorExpectedAtEndOfString"));
        assert_eq!(tokenize("echo \"abc").map_err(|e| e.id), Err("TerminatorExpectedAtEndOfString"));
        assert_eq!(tokenize("<# never closed").map_err(|e| e.id), Err("MissingEndOfComment"));
        assert_eq!(tokenize("echo (1").map_err(|e| e.id), Err("MissingEndParenthesisInExpression"));
        assert_eq!(tokenize("echo )").map_err(|e| e.id), Err("UnexpectedToken"));
    }

    #[test]
    fn hostile_text_does_not_panic() {
        for src in ["$", "${", "[", "`", "\"$(", "\"${x", "'", "<#", "#", "$a:", "::", "[a]::", "\u{0}\u{feff}", "@'\n'@"] {
            let _ = tokenize(src);
        }
    }
}
