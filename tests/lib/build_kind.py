"""Which build a test drives: the ASan+UBSan build is slower to start and
keeps freed memory in quarantine, and a few checks allow for that."""
import subprocess


def sanitizer_build(path):
    """True when the binary or module links AddressSanitizer."""
    libs = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    return "libasan" in libs
