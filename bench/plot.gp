# bench/plot.gp: TCP throughput per VPN and topology, median with min-max
# bars. Called by bench/run with -e "datafile=...; outfile=...; subtitle=..."
# datafile columns: vpn, then median/min/max for pair 1 stream, pair 4
# streams, line 1 stream, line 4 streams (Mbit/s). Log scale: the bare
# underlay is tens of times faster than any VPN.

set terminal pngcairo size 1000,560 font "sans,11" noenhanced
set output outfile
set title "iperf3 TCP throughput through each VPN (" . subtitle . ")"
set ylabel "Mbit/s (log scale)"
set logscale y
set yrange [10:*]
set grid ytics
set key top right
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set datafile missing "?"
set xtics nomirror
set bars front

plot datafile using 2:3:4:xtic(1) title "pair A->B, 1 stream" lc rgb "#4c72b0", \
     ''       using 5:6:7         title "pair A->B, 4 streams" lc rgb "#8fb0de", \
     ''       using 8:9:10        title "line A->C via B, 1 stream" lc rgb "#dd8452", \
     ''       using 11:12:13      title "line A->C via B, 4 streams" lc rgb "#f2b98f"
