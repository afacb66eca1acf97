"""Real-peer check: pywinrm (not written here) runs commands against a lab
host over NTLM. Prints one JSON object on stdout.

Usage: pywinrm_run.py URL USER PASSWORD ENCRYPTION KIND COMMAND
ENCRYPTION: always | never; KIND: cmd | ps. The password arrives in argv
only because this is the lab's throwaway password.
"""
import json
import sys

import winrm
from winrm.exceptions import InvalidCredentialsError, WinRMTransportError


def main():
    url, user, password, encryption, kind, command = sys.argv[1:7]
    session = winrm.Session(
        url,
        auth=(user, password),
        transport="ntlm",
        message_encryption=encryption,
        operation_timeout_sec=2,
        read_timeout_sec=5,
    )
    try:
        if kind == "ps":
            result = session.run_ps(command)
        else:
            result = session.run_cmd(command)
    except InvalidCredentialsError as err:
        print(json.dumps({"error": "invalid_credentials", "detail": str(err)}))
        return
    except WinRMTransportError as err:
        print(json.dumps({"error": "transport", "code": err.code, "detail": str(err)}))
        return
    print(json.dumps({
        "status_code": result.status_code,
        "std_out": result.std_out.decode("utf-8", "replace"),
        "std_err": result.std_err.decode("utf-8", "replace"),
    }))


if __name__ == "__main__":
    main()
