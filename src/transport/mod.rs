//! How bytes reach a host. Nothing above this layer knows about SOAP, NTLM
//! or SMB.
