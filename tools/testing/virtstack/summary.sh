#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# summary.sh FILE...: the table of result rows (name<TAB>passed<TAB>failed
# <TAB>skipped) and the closing line "N passed, N failed"; exits 1 on any
# failure or when nothing ran at all.
set -eu
cat "$@" | awk -F '\t' '
BEGIN { printf "\n%-60s %7s %7s %8s\n", "suite / check", "passed", "failed", "skipped" }
NF >= 4 {
	printf "%-60s %7d %7d %8d%s\n", $1, $2, $3, $4, ($3 > 0 ? "   <-- FAILED" : "")
	p += $2; f += $3; s += $4
}
END {
	if (p + f == 0) { print "nothing ran"; f = 1 }
	printf "\n%d passed, %d failed%s\n", p, f, (s ? sprintf(", %d skipped", s) : "")
	exit f > 0
}'
