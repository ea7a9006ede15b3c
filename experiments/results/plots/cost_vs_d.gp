# Cost against width d (log-log, mean over seeds)
# written by adalora report; run with: gnuplot cost_vs_d.gp
set terminal pngcairo noenhanced size 1400,600 font 'DejaVu Sans,11'
set output 'cost_vs_d.png'
set multiplot layout 1,2 title "Cost against width d (log-log, mean over seeds)"
set logscale xy
set xlabel 'd (width)'
set grid
set key top left font ',9'
set title 'time per training step'
set ylabel 'ms / step'
plot 'cost_vs_d.dat' index 0 using 1:2 with linespoints lw 2 pt 7 title "adalora", \
     'cost_vs_d.dat' index 1 using 1:2 with linespoints lw 2 pt 7 title "svd-proj, svd=full", \
     'cost_vs_d.dat' index 2 using 1:2 with linespoints lw 2 pt 7 title "svd-proj, svd=qr"
set title 'time per allocation (allocation + SVD, per mask step)'
set ylabel 'ms / mask step'
plot 'cost_vs_d.dat' index 0 using 1:3 with linespoints lw 2 pt 7 title "adalora", \
     'cost_vs_d.dat' index 1 using 1:3 with linespoints lw 2 pt 7 title "svd-proj, svd=full", \
     'cost_vs_d.dat' index 2 using 1:3 with linespoints lw 2 pt 7 title "svd-proj, svd=qr"
unset multiplot
unset output
reset
set terminal svg noenhanced size 1400,600 font 'DejaVu Sans,11'
set output 'cost_vs_d.svg'
set multiplot layout 1,2 title "Cost against width d (log-log, mean over seeds)"
set logscale xy
set xlabel 'd (width)'
set grid
set key top left font ',9'
set title 'time per training step'
set ylabel 'ms / step'
plot 'cost_vs_d.dat' index 0 using 1:2 with linespoints lw 2 pt 7 title "adalora", \
     'cost_vs_d.dat' index 1 using 1:2 with linespoints lw 2 pt 7 title "svd-proj, svd=full", \
     'cost_vs_d.dat' index 2 using 1:2 with linespoints lw 2 pt 7 title "svd-proj, svd=qr"
set title 'time per allocation (allocation + SVD, per mask step)'
set ylabel 'ms / mask step'
plot 'cost_vs_d.dat' index 0 using 1:3 with linespoints lw 2 pt 7 title "adalora", \
     'cost_vs_d.dat' index 1 using 1:3 with linespoints lw 2 pt 7 title "svd-proj, svd=full", \
     'cost_vs_d.dat' index 2 using 1:3 with linespoints lw 2 pt 7 title "svd-proj, svd=qr"
unset multiplot
unset output
