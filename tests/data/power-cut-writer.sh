#!/bin/sh
# The power-cut test's writer (tests/qemu.rs), a service of the disk image:
# numbered lines to its logger (svlogd on the data partition, rotating
# every 4 KB, which fsyncs), 50 at a time; after each 50 the count into
# /etc/pc, replaced atomically (the /etc overlay, on data); every 20th time
# a DHCP renewal, which rewrites the lease state on data.
exec 2>&1
i=0
round=0
while :; do
	j=0
	while [ $j -lt 50 ]; do
		i=$((i + 1)); j=$((j + 1))
		echo "line $i"
	done
	printf 'n=%d\n' "$i" > /etc/pc.tmp && mv /etc/pc.tmp /etc/pc
	round=$((round + 1))
	[ $((round % 20)) = 0 ] && ferrite sv 1 /var/service/dhcp_eth0 >/dev/null
done
