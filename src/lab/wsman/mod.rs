//! The lab's WinRM endpoint: HTTP, authentication, sealing, SOAP and the
//! shell resource. (Being written by the wsman helper.)
