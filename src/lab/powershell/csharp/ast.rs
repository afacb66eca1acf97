//! The syntax tree of the C# the lab compiles: types (classes, structs)
//! with constants, fields, methods (managed, or `extern` with a
//! `DllImport`), statements and expressions.

/// A type as written: `uint`, `System.Text.StringBuilder`, `byte[]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeExpr {
    pub name: String,
    pub array: bool,
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    /// Positional arguments, then `Name = value` ones.
    pub args: Vec<Expr>,
    pub named: Vec<(String, Expr)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamMode {
    Value,
    Ref,
    Out,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub mode: ParamMode,
    pub ty: TypeExpr,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Method {
    pub name: String,
    pub public: bool,
    pub is_static: bool,
    pub ret: TypeExpr,
    pub params: Vec<Param>,
    /// `None` for `extern`.
    pub body: Option<Vec<Stmt>>,
    /// For `extern`: (dll, entry point, SetLastError, CharSet.Unicode).
    pub import: Option<Import>,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub struct Import {
    pub dll: String,
    pub entry: String,
    pub set_last_error: bool,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub ty: TypeExpr,
    pub public: bool,
    pub is_const: bool,
    pub is_static: bool,
    pub init: Option<Expr>,
}

#[derive(Debug, Clone)]
pub struct TypeDecl {
    pub namespace: String,
    pub name: String,
    pub is_struct: bool,
    pub public: bool,
    pub fields: Vec<Field>,
    pub methods: Vec<Method>,
    pub nested: Vec<TypeDecl>,
}

impl TypeDecl {
    pub fn full_name(&self) -> String {
        if self.namespace.is_empty() { self.name.clone() } else { format!("{}.{}", self.namespace, self.name) }
    }
}

#[derive(Debug, Clone)]
pub struct Unit {
    pub usings: Vec<String>,
    pub types: Vec<TypeDecl>,
}

#[derive(Debug, Clone)]
pub enum Stmt {
    Block(Vec<Stmt>),
    /// `T a = x, b;`
    Local(TypeExpr, Vec<(String, Option<Expr>)>),
    Expr(Expr),
    If(Expr, Box<Stmt>, Option<Box<Stmt>>),
    Return(Option<Expr>),
    Throw(Option<Expr>),
    /// try, catches (type, variable, body), finally.
    Try(Vec<Stmt>, Vec<(Option<TypeExpr>, Option<String>, Vec<Stmt>)>, Option<Vec<Stmt>>),
    Foreach(TypeExpr, String, Expr, Box<Stmt>),
    For(Option<Box<Stmt>>, Option<Expr>, Vec<Expr>, Box<Stmt>),
    While(Expr, Box<Stmt>),
    Break,
    Continue,
    Empty,
}

#[derive(Debug, Clone)]
pub enum Expr {
    Int { value: u64, unsigned: bool, long: bool },
    Str(String),
    Char(u16),
    Bool(bool),
    Null,
    /// A simple name (a local, a member of the current type, a type).
    Name(String),
    Member(Box<Expr>, String),
    Call(Box<Expr>, Vec<Arg>),
    Index(Box<Expr>, Box<Expr>),
    New(TypeExpr, Vec<Arg>),
    /// `new T[n]`.
    NewArray(TypeExpr, Box<Expr>),
    Cast(TypeExpr, Box<Expr>),
    TypeOf(TypeExpr),
    Unary(&'static str, Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    /// `a = b`, `a += b` (the operator without `=`, or `=`).
    Assign(&'static str, Box<Expr>, Box<Expr>),
    /// `x++` / `x--` / `++x` / `--x`: (+1 or -1, prefix).
    Step(Box<Expr>, i64, bool),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Is(Box<Expr>, TypeExpr),
    As(Box<Expr>, TypeExpr),
}

#[derive(Debug, Clone)]
pub struct Arg {
    pub mode: ParamMode,
    pub expr: Expr,
}
