#!/bin/sh
# After a power cut (tests/qemu.rs): what the writer left on the data
# partition must parse, old or new, never torn. Prints PC-BAD lines and
# one "PC-CHECK bad=N lines=L".
bad=0
# the writer pauses while its files are read (svlogd removes the oldest
# rotated file as it writes), and goes on after
ferrite sv down /var/service/writer >/dev/null
trap 'ferrite sv up /var/service/writer >/dev/null' EXIT
grep -q " /data " /proc/mounts || { echo "PC-BAD data partition not mounted"; bad=1; }
if [ -e /etc/pc ]; then
	v=$(cat /etc/pc)
	case "$v" in n=[0-9]*) ;; *) echo "PC-BAD /etc/pc holds '$v'"; bad=1 ;; esac
fi
l=/var/lib/ferrite/dhcp/eth0.lease
if [ -e $l ]; then
	set -- $(cat $l)
	[ $# = 4 ] || { echo "PC-BAD lease state: '$(cat $l)'"; bad=1; }
fi
lines=0
if [ -d /data/log/writer ]; then
	cd /data/log/writer
	for f in $(ls @* 2>/dev/null) current; do
		[ -s "$f" ] || continue
		# every line ends with its newline, the last one too
		[ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n' ] || { echo "PC-BAD $f ends inside a line ($(wc -c < "$f") bytes, ending: $(tail -c 24 "$f" | od -An -c | tr -s ' ' | tr -d '\n'))"; bad=1; }
		prev=0
		while IFS= read -r line; do
			case "$line" in
			"line "*) n=${line#line } ;;
			*) echo "PC-BAD torn line in $f: '$line'"; bad=1; continue ;;
			esac
			# a rotated file was fsync'd whole: consecutive, or a new boot's 1
			if [ "$f" != current ] && [ "$prev" != 0 ] && [ "$n" != 1 ] && [ "$n" != $((prev + 1)) ]; then
				echo "PC-BAD gap in $f: $prev then $n"; bad=1
			fi
			prev=$n; lines=$((lines + 1))
		done < "$f"
	done
fi
echo "PC-CHECK bad=$bad lines=$lines"
