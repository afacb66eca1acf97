//! The syntax tree the parser builds and the interpreter walks. Shaped
//! after PowerShell's own AST (System.Management.Automation.Language):
//! script blocks with named blocks, statements, pipelines of commands and
//! expressions. Names are folded to lower case at parse time, so lookups
//! never fold again; every node keeps its byte span for error positions.
//!
//! The tree is immutable and shared (`Arc`) between every run of the same
//! script text (see `cache`): nothing in it is per run.

use std::sync::{Arc, OnceLock};

use super::types::TypeRef;

/// Byte offsets `[start, end)` into the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end as u32 }
    }
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start, end: other.end.max(self.start) }
    }
}

/// The text a tree was parsed from (for error positions and for the text
/// of script blocks).
pub type Source = Arc<str>;

/// A name as written and folded (`$ErrorActionPreference` is looked up as
/// `erroractionpreference`).
#[derive(Debug, Clone)]
pub struct Name {
    pub text: Arc<str>,
    pub folded: Arc<str>,
}

impl Name {
    pub fn new(text: &str) -> Name {
        Name { text: text.into(), folded: text.to_lowercase().into() }
    }
}

/// A script block: `{ param(...) begin {} process {} end {} }`, a
/// function body or a whole script.
#[derive(Debug)]
pub struct ScriptBlockAst {
    pub span: Span,
    pub source: Source,
    pub params: Vec<Param>,
    /// `[CmdletBinding()]` (common parameters such as -ErrorAction).
    pub cmdlet_binding: bool,
    pub begin: Option<Block>,
    pub process: Option<Block>,
    /// The end block (a block without named blocks is all end block).
    pub end: Option<Block>,
    /// Span of the text between the braces (what `.ToString()` gives).
    pub body_span: Span,
    /// Which per-call automatic variables its text can read (worked out
    /// on first call).
    pub reads: OnceLock<Reads>,
}

/// The automatic variables a function sets on every call that its text
/// can read: `$PSBoundParameters` (a table built from the arguments) and
/// `$args`. A block whose text names neither, nor anything that reads
/// variables by a name computed at run time (`Get-Variable`, the
/// `variable:` drive, `Invoke-Expression`, the engine's session state),
/// cannot read them, so a call does not build them.
#[derive(Debug, Clone, Copy)]
pub struct Reads {
    pub bound: bool,
    pub args: bool,
}

impl Reads {
    fn of(text: &str) -> Reads {
        let lower = text.to_ascii_lowercase();
        let dynamic = ["variable", "iex", "invoke-expression", "invokescript", "executioncontext", "gv"]
            .iter()
            .any(|w| lower.contains(w));
        Reads { bound: dynamic || lower.contains("psboundparameters"), args: dynamic || lower.contains("args") }
    }
}

impl ScriptBlockAst {
    /// What of `$PSBoundParameters` and `$args` the block can read.
    pub fn reads(&self) -> Reads {
        *self.reads.get_or_init(|| Reads::of(self.text()))
    }

    /// The block's text as `ToString()` gives it (without braces).
    pub fn text(&self) -> &str {
        self.source.get(self.body_span.start as usize..self.body_span.end as usize).unwrap_or("")
    }
}

/// A statement list with the traps declared in it.
#[derive(Debug, Default)]
pub struct Block {
    pub statements: Vec<Stmt>,
    /// Shared so a running block can keep its traps on the trap stack.
    pub traps: Arc<Vec<Trap>>,
}

#[derive(Debug)]
pub struct Trap {
    pub span: Span,
    pub types: Vec<TypeName>,
    pub body: Block,
}

/// One parameter of a function or script block.
#[derive(Debug)]
pub struct Param {
    pub span: Span,
    pub name: Name,
    pub ty: Option<TypeName>,
    pub default: Option<Expr>,
    pub mandatory: bool,
    pub position: Option<u32>,
    pub from_pipeline: bool,
    pub from_remaining: bool,
    pub switch: bool,
}

/// A type as written, resolved once when first used.
#[derive(Debug)]
pub struct TypeName {
    pub span: Span,
    /// As written, without brackets: `System.Byte[]`.
    pub text: Box<str>,
    pub resolved: OnceLock<Option<TypeRef>>,
}

impl TypeName {
    pub fn new(text: &str, span: Span) -> TypeName {
        TypeName { span, text: text.into(), resolved: OnceLock::new() }
    }
}

#[derive(Debug)]
pub struct Stmt {
    pub span: Span,
    pub kind: StmtKind,
}

#[derive(Debug)]
pub enum StmtKind {
    Pipeline(Pipeline),
    Assign { target: Expr, op: AssignOp, value: Box<Stmt> },
    If { clauses: Vec<(Pipeline, Block)>, else_: Option<Block> },
    While { label: Option<Box<str>>, cond: Pipeline, body: Block },
    DoWhile { label: Option<Box<str>>, body: Block, cond: Pipeline, until: bool },
    For { label: Option<Box<str>>, init: Option<Box<Stmt>>, cond: Option<Pipeline>, step: Option<Box<Stmt>>, body: Block },
    Foreach { label: Option<Box<str>>, var: VarRef, input: Pipeline, body: Block },
    Switch(Box<Switch>),
    Try { body: Block, catches: Vec<Catch>, finally: Option<Block> },
    Function { name: Name, filter: bool, body: Arc<ScriptBlockAst> },
    Return(Option<Pipeline>),
    Break(Option<Expr>),
    Continue(Option<Expr>),
    Throw(Option<Pipeline>),
    Exit(Option<Pipeline>),
    /// A trap declaration (collected into its block; a no-op in place).
    TrapDecl,
    /// The statements of a block parsed once and shared (the parse cache's
    /// common beginning of scripts), run in place.
    Include(Arc<Block>),
}

#[derive(Debug)]
pub struct Switch {
    pub label: Option<Box<str>>,
    pub regex: bool,
    pub wildcard: bool,
    pub exact: bool,
    pub case_sensitive: bool,
    pub input: Pipeline,
    pub clauses: Vec<(Expr, Block)>,
    pub default: Option<Block>,
}

#[derive(Debug)]
pub struct Catch {
    pub span: Span,
    pub types: Vec<TypeName>,
    pub body: Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignOp {
    Set,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl AssignOp {
    pub fn text(self) -> &'static str {
        match self {
            AssignOp::Set => "=",
            AssignOp::Add => "+=",
            AssignOp::Sub => "-=",
            AssignOp::Mul => "*=",
            AssignOp::Div => "/=",
            AssignOp::Rem => "%=",
        }
    }
}

/// `a | b | c`: the first element may be an expression; the rest are
/// commands.
#[derive(Debug)]
pub struct Pipeline {
    pub span: Span,
    pub elements: Vec<Element>,
}

#[derive(Debug)]
pub enum Element {
    Expr(Expr, Vec<Redirection>),
    Command(Command),
}

/// How a command is named.
#[derive(Debug)]
pub enum CommandName {
    /// A bare word: `Get-Item`, `reg.exe`, `C:\x\y.exe`.
    Word(Name),
    /// An expression after `&` or `.`: `& $block`, `& 'reg.exe'`.
    Expr(Expr),
}

#[derive(Debug)]
pub struct Command {
    pub span: Span,
    pub name: CommandName,
    pub name_span: Span,
    /// `&` (or none) vs `.` (dot-source: run in the caller's scope).
    pub dot: bool,
    pub args: Vec<CommandArg>,
    pub redirections: Vec<Redirection>,
}

#[derive(Debug)]
pub enum CommandArg {
    /// `-Name`, `-Name:value`.
    Param { span: Span, name: Name, value: Option<Expr>, colon: bool },
    /// A value; `text` is how it was written (for native programs).
    Value { expr: Expr, text: Arc<str> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Output,
    Error,
    All,
    Other(u8),
}

#[derive(Debug)]
pub enum Redirection {
    /// `2>&1`: the error stream into output.
    Merge { from: Stream },
    /// `> file`, `2>> file`, `> $null`.
    File { from: Stream, append: bool, target: Expr },
}

/// A variable reference: `$x`, `$script:x`, `${env:Path}`, `@splat`.
#[derive(Debug, Clone)]
pub struct VarRef {
    pub scope: VarScope,
    pub name: Name,
    pub special: Special,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarScope {
    Any,
    Local,
    Script,
    Global,
    Private,
    Env,
    /// `$variable:x`
    Variable,
    /// `$function:x`
    Function,
}

/// Variables resolved at parse time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    None,
    Null,
    True,
    False,
    /// `$?`
    Question,
    /// `$_` / `$PSItem`
    Underscore,
}

#[derive(Debug)]
pub struct Expr {
    pub span: Span,
    pub kind: ExprKind,
}

#[derive(Debug)]
pub enum ExprKind {
    Int(i32),
    Long(i64),
    Double(f64),
    Str(Box<str>),
    Expandable(Vec<StrPart>),
    Var(VarRef),
    /// `@args` in a command's arguments.
    Splat(VarRef),
    /// `a, b, c`
    ArrayLiteral(Vec<Expr>),
    /// `@( ... )`
    ArrayExpr(Block),
    /// `$( ... )`
    SubExpr(Block),
    /// `( pipeline )`
    Paren(Box<Stmt>),
    Hashtable(Vec<(Expr, Stmt)>),
    ScriptBlock(Arc<ScriptBlockAst>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `[int]$x`
    Convert(Box<TypeName>, Box<Expr>),
    /// `[int]`
    Type(Box<TypeName>),
    Member { target: Box<Expr>, name: Box<MemberName>, is_static: bool },
    Invoke { target: Box<Expr>, name: Box<MemberName>, args: Vec<Expr>, is_static: bool },
    Index { target: Box<Expr>, index: Box<Expr> },
    /// `++$x`, `$x--`, ...
    IncDec { target: Box<Expr>, inc: bool, prefix: bool },
}

#[derive(Debug)]
pub enum MemberName {
    Name(Name),
    Expr(Expr),
}

/// A part of an expandable string.
#[derive(Debug)]
pub enum StrPart {
    Lit(Box<str>),
    Var(VarRef),
    Sub(Block),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
    Plus,
    BNot,
    Split,
    Join,
    /// `,x`: a one-element array.
    Comma,
}

/// Binary operators. Comparison operators carry their case rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Range,
    Format,
    And,
    Or,
    Xor,
    BAnd,
    BOr,
    BXor,
    Shl,
    Shr,
    Is,
    IsNot,
    As,
    Cmp(CmpOp, Case),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// `-eq`, `-ieq`
    Insensitive,
    /// `-ceq`
    Sensitive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Like,
    NotLike,
    Match,
    NotMatch,
    Contains,
    NotContains,
    In,
    NotIn,
    Replace,
    Split,
    Join,
}

impl BinOp {
    /// The operator as written (for error messages).
    pub fn text(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Range => "..",
            BinOp::Format => "-f",
            BinOp::And => "-and",
            BinOp::Or => "-or",
            BinOp::Xor => "-xor",
            BinOp::BAnd => "-band",
            BinOp::BOr => "-bor",
            BinOp::BXor => "-bxor",
            BinOp::Shl => "-shl",
            BinOp::Shr => "-shr",
            BinOp::Is => "-is",
            BinOp::IsNot => "-isnot",
            BinOp::As => "-as",
            BinOp::Cmp(op, _) => match op {
                CmpOp::Eq => "-eq",
                CmpOp::Ne => "-ne",
                CmpOp::Gt => "-gt",
                CmpOp::Ge => "-ge",
                CmpOp::Lt => "-lt",
                CmpOp::Le => "-le",
                CmpOp::Like => "-like",
                CmpOp::NotLike => "-notlike",
                CmpOp::Match => "-match",
                CmpOp::NotMatch => "-notmatch",
                CmpOp::Contains => "-contains",
                CmpOp::NotContains => "-notcontains",
                CmpOp::In => "-in",
                CmpOp::NotIn => "-notin",
                CmpOp::Replace => "-replace",
                CmpOp::Split => "-split",
                CmpOp::Join => "-join",
            },
        }
    }

    /// Binding strength: higher binds tighter (PowerShell's
    /// TokenFlags.BinaryPrecedence*).
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::And | BinOp::Or | BinOp::Xor => 1,
            BinOp::BAnd | BinOp::BOr | BinOp::BXor => 2,
            BinOp::Is | BinOp::IsNot | BinOp::As | BinOp::Cmp(..) | BinOp::Shl | BinOp::Shr => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Rem => 5,
            BinOp::Format => 6,
            BinOp::Range => 7,
        }
    }
}

/// `-eq`, `-ceq`, `-ieq`, ... and the other dash operators, by name
/// (without the dash, any case).
pub fn dash_operator(word: &str) -> Option<BinOp> {
    let w = word.to_ascii_lowercase();
    let simple = match w.as_str() {
        "and" => Some(BinOp::And),
        "or" => Some(BinOp::Or),
        "xor" => Some(BinOp::Xor),
        "band" => Some(BinOp::BAnd),
        "bor" => Some(BinOp::BOr),
        "bxor" => Some(BinOp::BXor),
        "shl" => Some(BinOp::Shl),
        "shr" => Some(BinOp::Shr),
        "is" => Some(BinOp::Is),
        "isnot" => Some(BinOp::IsNot),
        "as" => Some(BinOp::As),
        "f" => Some(BinOp::Format),
        _ => None,
    };
    if simple.is_some() {
        return simple;
    }
    let (case, base) = match w.as_bytes().first() {
        Some(b'c') if cmp_op(&w[1..]).is_some() => (Case::Sensitive, &w[1..]),
        Some(b'i') if cmp_op(&w[1..]).is_some() => (Case::Insensitive, &w[1..]),
        _ => (Case::Insensitive, w.as_str()),
    };
    cmp_op(base).map(|op| BinOp::Cmp(op, case))
}

fn cmp_op(w: &str) -> Option<CmpOp> {
    Some(match w {
        "eq" => CmpOp::Eq,
        "ne" => CmpOp::Ne,
        "gt" => CmpOp::Gt,
        "ge" => CmpOp::Ge,
        "lt" => CmpOp::Lt,
        "le" => CmpOp::Le,
        "like" => CmpOp::Like,
        "notlike" => CmpOp::NotLike,
        "match" => CmpOp::Match,
        "notmatch" => CmpOp::NotMatch,
        "contains" => CmpOp::Contains,
        "notcontains" => CmpOp::NotContains,
        "in" => CmpOp::In,
        "notin" => CmpOp::NotIn,
        "replace" => CmpOp::Replace,
        "split" => CmpOp::Split,
        "join" => CmpOp::Join,
        _ => return None,
    })
}
