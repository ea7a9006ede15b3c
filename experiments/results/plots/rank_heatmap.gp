# Kept rank per module over training (table4-encoder/importance-sens-unc_init_r-2_method-adalora_target_r-1_seed-0)
# written by adalora report; run with: gnuplot rank_heatmap.gp
set terminal pngcairo noenhanced size 1000,912 font 'DejaVu Sans,11'
set output 'rank_heatmap.png'
set title "Kept rank per module over training (table4-encoder/importance-sens-unc_init_r-2_method-adalora_target_r-1_seed-0)"
set xlabel 'step (ranks.csv: step 0 and every mask step)'
set ylabel 'module'
set cbrange [0:2]
set cblabel 'kept rank'
set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')
set yrange [35.5:-0.5]
set xrange [-0.5:21.5]
set ytics ("0.query" 0, "0.key" 1, "0.value" 2, "0.attention.output.dense" 3, "0.intermediate.dense" 4, "0.output.dense" 5, "1.query" 6, "1.key" 7, "1.value" 8, "1.attention.output.dense" 9, "1.intermediate.dense" 10, "1.output.dense" 11, "2.query" 12, "2.key" 13, "2.value" 14, "2.attention.output.dense" 15, "2.intermediate.dense" 16, "2.output.dense" 17, "3.query" 18, "3.key" 19, "3.value" 20, "3.attention.output.dense" 21, "3.intermediate.dense" 22, "3.output.dense" 23, "4.query" 24, "4.key" 25, "4.value" 26, "4.attention.output.dense" 27, "4.intermediate.dense" 28, "4.output.dense" 29, "5.query" 30, "5.key" 31, "5.value" 32, "5.attention.output.dense" 33, "5.intermediate.dense" 34, "5.output.dense" 35) font ',9'
set xtics ("0" 0, "10" 2, "20" 4, "30" 6, "40" 8, "50" 10, "60" 12, "70" 14, "80" 16, "90" 18, "100" 20)
set tics out
unset key
plot 'rank_heatmap.dat' matrix with image
unset output
reset
set terminal svg noenhanced size 1000,912 font 'DejaVu Sans,11'
set output 'rank_heatmap.svg'
set title "Kept rank per module over training (table4-encoder/importance-sens-unc_init_r-2_method-adalora_target_r-1_seed-0)"
set xlabel 'step (ranks.csv: step 0 and every mask step)'
set ylabel 'module'
set cbrange [0:2]
set cblabel 'kept rank'
set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')
set yrange [35.5:-0.5]
set xrange [-0.5:21.5]
set ytics ("0.query" 0, "0.key" 1, "0.value" 2, "0.attention.output.dense" 3, "0.intermediate.dense" 4, "0.output.dense" 5, "1.query" 6, "1.key" 7, "1.value" 8, "1.attention.output.dense" 9, "1.intermediate.dense" 10, "1.output.dense" 11, "2.query" 12, "2.key" 13, "2.value" 14, "2.attention.output.dense" 15, "2.intermediate.dense" 16, "2.output.dense" 17, "3.query" 18, "3.key" 19, "3.value" 20, "3.attention.output.dense" 21, "3.intermediate.dense" 22, "3.output.dense" 23, "4.query" 24, "4.key" 25, "4.value" 26, "4.attention.output.dense" 27, "4.intermediate.dense" 28, "4.output.dense" 29, "5.query" 30, "5.key" 31, "5.value" 32, "5.attention.output.dense" 33, "5.intermediate.dense" 34, "5.output.dense" 35) font ',9'
set xtics ("0" 0, "10" 2, "20" 4, "30" 6, "40" 8, "50" 10, "60" 12, "70" 14, "80" 16, "90" 18, "100" 20)
set tics out
unset key
plot 'rank_heatmap.dat' matrix with image
unset output
