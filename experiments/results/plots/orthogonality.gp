# Orthogonality error against step (mean over modules and seeds)
# written by adalora report; run with: gnuplot orthogonality.gp
set terminal pngcairo noenhanced size 1400,600 font 'DejaVu Sans,11'
set output 'orthogonality.png'
set multiplot layout 1,2 title "Orthogonality error against step (mean over modules and seeds)"
set logscale y
set format y '%.0e'
set xlabel 'step'
set grid
set key bottom left font ',9'
set arrow 1 from 120, graph 0 to 120, graph 1 nohead dt 2 lc rgb '#888888'
set label 1 "t_i" at 120, graph 0.97 right offset -0.5,0 font ',9' tc rgb '#666666'
set arrow 2 from 840, graph 0 to 840, graph 1 nohead dt 2 lc rgb '#888888'
set label 2 "T - t_f" at 840, graph 0.97 right offset -0.5,0 font ',9' tc rgb '#666666'
set title '‖PᵀP − I‖_F'
plot 'orthogonality.dat' index 0 using 1:2 with lines lw 2 title "γ = 0.0", \
     'orthogonality.dat' index 1 using 1:2 with lines lw 2 title "γ = 0.1", \
     'orthogonality.dat' index 2 using 1:2 with lines lw 2 title "γ = 0.5"
set title '‖QQᵀ − I‖_F'
plot 'orthogonality.dat' index 0 using 1:3 with lines lw 2 title "γ = 0.0", \
     'orthogonality.dat' index 1 using 1:3 with lines lw 2 title "γ = 0.1", \
     'orthogonality.dat' index 2 using 1:3 with lines lw 2 title "γ = 0.5"
unset multiplot
unset output
reset
set terminal svg noenhanced size 1400,600 font 'DejaVu Sans,11'
set output 'orthogonality.svg'
set multiplot layout 1,2 title "Orthogonality error against step (mean over modules and seeds)"
set logscale y
set format y '%.0e'
set xlabel 'step'
set grid
set key bottom left font ',9'
set arrow 1 from 120, graph 0 to 120, graph 1 nohead dt 2 lc rgb '#888888'
set label 1 "t_i" at 120, graph 0.97 right offset -0.5,0 font ',9' tc rgb '#666666'
set arrow 2 from 840, graph 0 to 840, graph 1 nohead dt 2 lc rgb '#888888'
set label 2 "T - t_f" at 840, graph 0.97 right offset -0.5,0 font ',9' tc rgb '#666666'
set title '‖PᵀP − I‖_F'
plot 'orthogonality.dat' index 0 using 1:2 with lines lw 2 title "γ = 0.0", \
     'orthogonality.dat' index 1 using 1:2 with lines lw 2 title "γ = 0.1", \
     'orthogonality.dat' index 2 using 1:2 with lines lw 2 title "γ = 0.5"
set title '‖QQᵀ − I‖_F'
plot 'orthogonality.dat' index 0 using 1:3 with lines lw 2 title "γ = 0.0", \
     'orthogonality.dat' index 1 using 1:3 with lines lw 2 title "γ = 0.1", \
     'orthogonality.dat' index 2 using 1:3 with lines lw 2 title "γ = 0.5"
unset multiplot
unset output
