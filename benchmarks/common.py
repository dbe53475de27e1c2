"""What several benchmarks (and tests/test_cli_enhance.py) share: the held-out codes and a command's peak memory."""

from __future__ import annotations

KINDS = ("realistic", "clean")

# `python -c PEAK_RSS enhance ...` runs qrsr and reports its own peak as `peak_rss_kb=N` on stderr: VmHWM of its
# memory map. ru_maxrss would also count the parent's resident set at fork time (Linux carries it over exec), so
# a parent holding models would inflate the child's figure.
PEAK_RSS = ("import re, resource, sys\n"
            "from qrsr_helpers.cli import main\n"
            "code = main(sys.argv[1:])\n"
            "try:\n"
            "    peak = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
            "except (OSError, AttributeError):  # not Linux\n"
            "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "print(f'peak_rss_kb={peak}', file=sys.stderr)\n"
            "sys.exit(code)\n")


def held_out(n: int, kinds: tuple[str, ...] = KINDS) -> dict:
    """``n`` fresh codes per degradation from ``Config.eval_seed`` (never trained on): what every generator is
    compared with bicubic on."""
    from qrsr_helpers.config import Config
    from qrsr_helpers.data.pairs import generate_pairs

    return {kind: generate_pairs(n, Config.eval_seed, kind) for kind in kinds}
