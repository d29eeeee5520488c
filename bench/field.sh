# shellcheck shell=bash
# Sourced by the bench scripts: reading bench/timeit's output lines.

# field NAME LINE prints the value of NAME=VALUE in LINE, one of timeit's
# output lines; a missing field is an error naming the calling script.
field() {
	local kv
	for kv in $2; do
		if [[ "$kv" == "$1="* ]]; then
			echo "${kv#*=}"
			return
		fi
	done
	echo "${0#"$PWD"/}: no $1 in '$2'" >&2
	return 1
}
