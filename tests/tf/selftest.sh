#!/usr/bin/env bash
# Self-test of the offline Terraform checker (tests/tf/check.mjs), TAP output.
#
# Every directory tests/tf/fixtures/<rule-id>/ is a small broken tree that must
# make the checker report <rule-id>, and nothing but <rule-id>. All fixtures go
# through one checker run (the wasm HCL parser takes a second to start); two
# single runs cover the exit status of one tree and a usage error. Last, the
# real terraform/ tree must pass.
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 2

checker=tests/tf/check.mjs
fixtures=tests/tf/fixtures
passed=0
failed=0
n=0

ok() {
	n=$((n + 1))
	passed=$((passed + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	if [ -n "${2:-}" ]; then
		while IFS= read -r line; do
			echo "#   $line"
		done <<<"$2"
	fi
}

mapfile -t rules < <(find "$fixtures" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
echo "1..$((${#rules[@]} + 4))"

# One run over every fixture.
dirs=()
for rule in "${rules[@]}"; do
	dirs+=("$fixtures/$rule/")
done
out=$(node "$checker" "${dirs[@]}" 2>&1)
status=$?
if [ "$status" -eq 1 ]; then
	ok "checker exits 1 on the broken fixtures"
else
	not_ok "checker exits 1 on the broken fixtures (got $status)" "$out"
fi

for rule in "${rules[@]}"; do
	# Findings of this fixture: `<file>[:line[:col]]: <rule-id>: <message>`.
	lines=$(grep -F "$fixtures/$rule/" <<<"$out" | grep -v '^tf-check: ')
	got=$(awk -F': ' '{ print $2 }' <<<"$lines" | sort -u)
	if [ -z "$lines" ]; then
		not_ok "$rule: fixture reports nothing" "$out"
	elif [ "$got" != "$rule" ]; then
		not_ok "$rule: fixture reports $(tr '\n' ' ' <<<"$got")" "$lines"
	else
		ok "$rule: reported ($(wc -l <<<"$lines") finding(s))"
	fi
done

# Exit status of a single broken tree.
out=$(node "$checker" "$fixtures/imdsv2" 2>&1)
status=$?
if [ "$status" -eq 1 ] && grep -q ': imdsv2: ' <<<"$out"; then
	ok "single broken tree: exit 1 with imdsv2"
else
	not_ok "single broken tree: exit 1 with imdsv2 (got $status)" "$out"
fi

out=$(node "$checker" "$fixtures/no-such-directory" 2>&1)
status=$?
if [ "$status" -eq 2 ]; then
	ok "usage error: exit 2"
else
	not_ok "usage error: exit 2 (got $status)" "$out"
fi

out=$(node "$checker" terraform 2>&1)
status=$?
if [ "$status" -eq 0 ]; then
	ok "terraform/ passes"
else
	not_ok "terraform/ passes (got $status)" "$out"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
