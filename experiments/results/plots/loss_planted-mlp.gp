# Task loss against step on planted-mlp (mean over seeds)
# written by adalora report; run with: gnuplot loss_planted-mlp.gp
set terminal pngcairo noenhanced size 1400,960 font 'DejaVu Sans,11'
set output 'loss_planted-mlp.png'
set multiplot layout 2,2 title "Task loss against step on planted-mlp (mean over seeds)"
set logscale y
set format y '%g'
set xlabel 'step'
set ylabel 'task loss (batch)'
set grid
set key top right font ',9' box opaque
set arrow 1 from 120, graph 0 to 120, graph 1 nohead dt 2 lc rgb '#888888'
set label 1 "t_i" at 120, graph 0.97 right offset -0.5,0 font ',9' tc rgb '#666666'
set arrow 2 from 840, graph 0 to 840, graph 1 nohead dt 2 lc rgb '#888888'
set label 2 "T - t_f" at 840, graph 0.97 right offset -0.5,0 font ',9' tc rgb '#666666'
set title "target_r=1"
plot 'loss_planted-mlp.dat' index 0 using 1:2 with lines lw 2 title "adalora", \
     'loss_planted-mlp.dat' index 1 using 1:2 with lines lw 2 title "lora", \
     'loss_planted-mlp.dat' index 2 using 1:2 with lines lw 2 title "svd-lora", \
     'loss_planted-mlp.dat' index 3 using 1:2 with lines lw 2 title "svd-proj"
set title "target_r=2"
plot 'loss_planted-mlp.dat' index 4 using 1:2 with lines lw 2 title "adalora", \
     'loss_planted-mlp.dat' index 5 using 1:2 with lines lw 2 title "lora", \
     'loss_planted-mlp.dat' index 6 using 1:2 with lines lw 2 title "svd-lora", \
     'loss_planted-mlp.dat' index 7 using 1:2 with lines lw 2 title "svd-proj"
set title "target_r=3"
plot 'loss_planted-mlp.dat' index 8 using 1:2 with lines lw 2 title "adalora", \
     'loss_planted-mlp.dat' index 9 using 1:2 with lines lw 2 title "lora", \
     'loss_planted-mlp.dat' index 10 using 1:2 with lines lw 2 title "svd-lora", \
     'loss_planted-mlp.dat' index 11 using 1:2 with lines lw 2 title "svd-proj"
unset multiplot
unset output
reset
set terminal svg noenhanced size 1400,960 font 'DejaVu Sans,11'
set output 'loss_planted-mlp.svg'
set multiplot layout 2,2 title "Task loss against step on planted-mlp (mean over seeds)"
set logscale y
set format y '%g'
set xlabel 'step'
set ylabel 'task loss (batch)'
set grid
set key top right font ',9' box opaque
set arrow 1 from 120, graph 0 to 120, graph 1 nohead dt 2 lc rgb '#888888'
set label 1 "t_i" at 120, graph 0.97 right offset -0.5,0 font ',9' tc rgb '#666666'
set arrow 2 from 840, graph 0 to 840, graph 1 nohead dt 2 lc rgb '#888888'
set label 2 "T - t_f" at 840, graph 0.97 right offset -0.5,0 font ',9' tc rgb '#666666'
set title "target_r=1"
plot 'loss_planted-mlp.dat' index 0 using 1:2 with lines lw 2 title "adalora", \
     'loss_planted-mlp.dat' index 1 using 1:2 with lines lw 2 title "lora", \
     'loss_planted-mlp.dat' index 2 using 1:2 with lines lw 2 title "svd-lora", \
     'loss_planted-mlp.dat' index 3 using 1:2 with lines lw 2 title "svd-proj"
set title "target_r=2"
plot 'loss_planted-mlp.dat' index 4 using 1:2 with lines lw 2 title "adalora", \
     'loss_planted-mlp.dat' index 5 using 1:2 with lines lw 2 title "lora", \
     'loss_planted-mlp.dat' index 6 using 1:2 with lines lw 2 title "svd-lora", \
     'loss_planted-mlp.dat' index 7 using 1:2 with lines lw 2 title "svd-proj"
set title "target_r=3"
plot 'loss_planted-mlp.dat' index 8 using 1:2 with lines lw 2 title "adalora", \
     'loss_planted-mlp.dat' index 9 using 1:2 with lines lw 2 title "lora", \
     'loss_planted-mlp.dat' index 10 using 1:2 with lines lw 2 title "svd-lora", \
     'loss_planted-mlp.dat' index 11 using 1:2 with lines lw 2 title "svd-proj"
unset multiplot
unset output
