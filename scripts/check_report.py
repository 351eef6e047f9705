# SPDX-License-Identifier: Apache-2.0
"""The ending the scripts/check_*.py checks share: each problem on a line of its own, then
one summary line; the exit status is 1 if there was a problem."""


def finish(tool, checked, problems):
    """Prints problems and "TOOL: CHECKED, N problems"; returns the exit status."""
    for problem in problems:
        print(problem)
    print(f"{tool}: {checked}, {len(problems)} problems")
    return 1 if problems else 0
