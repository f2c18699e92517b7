# The rule sets the benchmarks share (sourced by bench/apply.sh, nft.sh and trace.sh), so that
# their figures are of the same rules: istio's default sidecar flags, and 2,000 distinct IPv4
# CIDRs for -x (10.0.0.0/24, 10.0.1.0/24, ...).
SIDECAR_FLAGS=(-p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -b '*' -d 15090,15021,15020 --enable-ipv6=true)
CIDRS_2000=$(python3 -c 'print(",".join(f"10.{i//256}.{i%256}.0/24" for i in range(2000)))')
