# Kept rank per module over training (allocation/method-adalora_target_r-1_task-planted-linear_seed-0)
# written by adalora report; run with: gnuplot rank_heatmap.gp
set terminal pngcairo noenhanced size 1000,648 font 'DejaVu Sans,11'
set output 'rank_heatmap.png'
set title "Kept rank per module over training (allocation/method-adalora_target_r-1_task-planted-linear_seed-0)"
set xlabel 'step (ranks.csv: step 0 and every mask step)'
set ylabel 'module'
set cbrange [0:8]
set cblabel 'kept rank'
set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')
set yrange [23.5:-0.5]
set xrange [-0.5:84.5]
set ytics ("l0.q" 0, "l0.k" 1, "l0.v" 2, "l0.o" 3, "l0.f1" 4, "l0.f2" 5, "l1.q" 6, "l1.k" 7, "l1.v" 8, "l1.o" 9, "l1.f1" 10, "l1.f2" 11, "l2.q" 12, "l2.k" 13, "l2.v" 14, "l2.o" 15, "l2.f1" 16, "l2.f2" 17, "l3.q" 18, "l3.k" 19, "l3.v" 20, "l3.o" 21, "l3.f1" 22, "l3.f2" 23) font ',9'
set xtics ("0" 0, "80" 8, "160" 16, "240" 24, "320" 32, "400" 40, "480" 48, "560" 56, "640" 64, "720" 72, "800" 80)
set tics out
unset key
plot 'rank_heatmap.dat' matrix with image
unset output
reset
set terminal svg noenhanced size 1000,648 font 'DejaVu Sans,11'
set output 'rank_heatmap.svg'
set title "Kept rank per module over training (allocation/method-adalora_target_r-1_task-planted-linear_seed-0)"
set xlabel 'step (ranks.csv: step 0 and every mask step)'
set ylabel 'module'
set cbrange [0:8]
set cblabel 'kept rank'
set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')
set yrange [23.5:-0.5]
set xrange [-0.5:84.5]
set ytics ("l0.q" 0, "l0.k" 1, "l0.v" 2, "l0.o" 3, "l0.f1" 4, "l0.f2" 5, "l1.q" 6, "l1.k" 7, "l1.v" 8, "l1.o" 9, "l1.f1" 10, "l1.f2" 11, "l2.q" 12, "l2.k" 13, "l2.v" 14, "l2.o" 15, "l2.f1" 16, "l2.f2" 17, "l3.q" 18, "l3.k" 19, "l3.v" 20, "l3.o" 21, "l3.f1" 22, "l3.f2" 23) font ',9'
set xtics ("0" 0, "80" 8, "160" 16, "240" 24, "320" 32, "400" 40, "480" 48, "560" 56, "640" 64, "720" 72, "800" 80)
set tics out
unset key
plot 'rank_heatmap.dat' matrix with image
unset output
