"""Real-peer check over HTTPS: pywinrm (with requests-ntlm and pyspnego,
which send their own NTLM channel binding) runs `hostname` on a lab host's
port-5986 listener, verifying its certificate against the lab CA. Prints one
JSON object on stdout.

Usage: pywinrm_https.py URL USER PASSWORD CA_FILE ENCRYPTION
ENCRYPTION: auto (plaintext inside TLS) | always (NTLM-sealed inside TLS).
The password arrives in argv only because this is the lab's throwaway one.
"""
import json
import sys

import winrm
from winrm.exceptions import InvalidCredentialsError, WinRMTransportError


def main():
    url, user, password, ca_file, encryption = sys.argv[1:6]
    session = winrm.Session(
        url,
        auth=(user, password),
        transport="ntlm",
        server_cert_validation="validate",
        ca_trust_path=ca_file,
        message_encryption=encryption,
        operation_timeout_sec=2,
        read_timeout_sec=5,
    )
    try:
        result = session.run_cmd("hostname")
    except InvalidCredentialsError as err:
        print(json.dumps({"error": "invalid_credentials", "detail": str(err)}))
        return
    except WinRMTransportError as err:
        print(json.dumps({"error": "transport", "code": err.code, "detail": str(err)}))
        return
    except Exception as err:  # TLS failures come as requests' SSLError
        print(json.dumps({"error": type(err).__name__, "detail": str(err)}))
        return
    print(json.dumps({
        "status_code": result.status_code,
        "std_out": result.std_out.decode("utf-8", "replace"),
    }))


if __name__ == "__main__":
    main()
