"""Run one command and print its wall time, CPU time (user + system, itself
and its children) and peak memory (largest resident set of the process tree's
biggest member), as one JSON line. Usage: measure.py LABEL -- COMMAND..."""
import json
import resource
import subprocess
import sys
import time


def main():
    label = sys.argv[1]
    command = sys.argv[sys.argv.index("--") + 1:]
    started = time.monotonic()
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    tail = done.stdout.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    print(json.dumps({
        "label": label,
        "exit": done.returncode,
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
        "last_line": tail[0][:200],
    }))
    if done.returncode not in (0, 2):
        sys.stderr.write(done.stderr.decode("utf-8", "replace")[-2000:])


if __name__ == "__main__":
    main()
