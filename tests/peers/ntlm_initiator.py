"""pyspnego as an NTLM initiator, driven line by line over stdin/stdout.

Usage: ntlm_initiator.py USER PASSWORD HOSTNAME
Prints "T1 <b64>" at start, then answers each request line:
  T2 <b64>      -> T3 <b64>          (the AUTHENTICATE for that CHALLENGE)
  WRAP <b64>    -> WRAPPED <b64>     (wrap(data, encrypt=True): 16-byte signature + ciphertext)
  UNWRAP <b64>  -> UNWRAPPED <b64>   (or "ERR <message>" if unwrap fails)
  QUIT          -> exits
Any failure is reported as "ERR <message>".
"""

import base64
import sys

import spnego


def send(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    user, password, hostname = sys.argv[1:4]
    ctx = spnego.client(
        user, password, hostname=hostname, service="http", protocol="ntlm",
        options=spnego.NegotiateOptions.use_ntlm,
    )
    send("T1 " + base64.b64encode(ctx.step()).decode())
    for raw in sys.stdin:
        verb, _, arg = raw.strip().partition(" ")
        data = base64.b64decode(arg) if arg else b""
        try:
            if verb == "T2":
                send("T3 " + base64.b64encode(ctx.step(data)).decode())
            elif verb == "WRAP":
                send("WRAPPED " + base64.b64encode(ctx.wrap(data, encrypt=True).data).decode())
            elif verb == "UNWRAP":
                send("UNWRAPPED " + base64.b64encode(ctx.unwrap(data).data).decode())
            elif verb == "QUIT":
                return
            else:
                send("ERR unknown verb " + verb)
        except Exception as e:  # report, keep serving
            send("ERR " + type(e).__name__ + ": " + str(e).replace("\n", " "))


if __name__ == "__main__":
    main()
