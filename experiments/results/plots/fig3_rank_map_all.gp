# Final kept rank per matrix type and layer, mean over the 4 tasks of fig3 (each the mean over its seeds)
# written by adalora report; run with: gnuplot fig3_rank_map_all.gp
set terminal pngcairo noenhanced size 1000,520 font 'DejaVu Sans,11'
set output 'fig3_rank_map_all.png'
set title "Final kept rank per matrix type and layer, mean over the 4 tasks of fig3 (each the mean over its seeds)"
set xlabel 'layer'
set ylabel 'matrix type'
set cbrange [0:3]
set cblabel 'final kept rank (mean)'
set palette defined (0 '#f7fbff', 1 '#c6dbef', 2 '#6baed6', 3 '#2b7bba')
set xrange [-0.5:5.5]
set yrange [5.5:-0.5]
set xtics ("1" 0, "2" 1, "3" 2, "4" 3, "5" 4, "6" 5)
set ytics ("W_q (query)" 0, "W_k (key)" 1, "W_v (value)" 2, "W_o (attention.output.dense)" 3, "W_f1 (intermediate.dense)" 4, "W_f2 (output.dense)" 5)
set tics out
unset key
set rmargin 14
plot 'fig3_rank_map_all.dat' index 0 matrix with image notitle, \
     '' index 1 using 1:2:3 with labels font ',11' notitle
unset output
reset
set terminal svg noenhanced size 1000,520 font 'DejaVu Sans,11'
set output 'fig3_rank_map_all.svg'
set title "Final kept rank per matrix type and layer, mean over the 4 tasks of fig3 (each the mean over its seeds)"
set xlabel 'layer'
set ylabel 'matrix type'
set cbrange [0:3]
set cblabel 'final kept rank (mean)'
set palette defined (0 '#f7fbff', 1 '#c6dbef', 2 '#6baed6', 3 '#2b7bba')
set xrange [-0.5:5.5]
set yrange [5.5:-0.5]
set xtics ("1" 0, "2" 1, "3" 2, "4" 3, "5" 4, "6" 5)
set ytics ("W_q (query)" 0, "W_k (key)" 1, "W_v (value)" 2, "W_o (attention.output.dense)" 3, "W_f1 (intermediate.dense)" 4, "W_f2 (output.dense)" 5)
set tics out
unset key
set rmargin 14
plot 'fig3_rank_map_all.dat' index 0 matrix with image notitle, \
     '' index 1 using 1:2:3 with labels font ',11' notitle
unset output
