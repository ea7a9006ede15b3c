# Test accuracy with one part of the model adapted, at one budget, on vader-movies (fig1, mean over seeds, 95% CI)
# written by adalora report; run with: gnuplot fig1_accuracy_vader-movies.gp
set terminal pngcairo noenhanced size 1400,620 font 'DejaVu Sans,11'
set output 'fig1_accuracy_vader-movies.png'
set multiplot layout 1,2 title "Test accuracy with one part of the model adapted, at one budget, on vader-movies (fig1, mean over seeds, 95% CI)"
set style fill solid 0.85 border -1
set boxwidth 0.7
set ylabel 'test accuracy'
set grid ytics
set xtics rotate by 25 right font ',9'
unset key
set yrange [0.444017602:0.893204502]
set title "(a) one matrix type alone, every layer"
set xrange [-0.6:5.6]
plot 'fig1_accuracy_vader-movies.dat' index 0 using 1:3:xtic(2) with boxes lc rgb '#4a90c2' notitle, \
     '' index 0 using 1:3:4:5 with yerrorbars lc rgb '#222222' pt 7 ps 0.5 notitle
set title "(b) all six matrices of one layer group alone"
set xrange [-0.6:2.6]
plot 'fig1_accuracy_vader-movies.dat' index 1 using 1:3:xtic(2) with boxes lc rgb '#4a90c2' notitle, \
     '' index 1 using 1:3:4:5 with yerrorbars lc rgb '#222222' pt 7 ps 0.5 notitle
unset multiplot
unset output
reset
set terminal svg noenhanced size 1400,620 font 'DejaVu Sans,11'
set output 'fig1_accuracy_vader-movies.svg'
set multiplot layout 1,2 title "Test accuracy with one part of the model adapted, at one budget, on vader-movies (fig1, mean over seeds, 95% CI)"
set style fill solid 0.85 border -1
set boxwidth 0.7
set ylabel 'test accuracy'
set grid ytics
set xtics rotate by 25 right font ',9'
unset key
set yrange [0.444017602:0.893204502]
set title "(a) one matrix type alone, every layer"
set xrange [-0.6:5.6]
plot 'fig1_accuracy_vader-movies.dat' index 0 using 1:3:xtic(2) with boxes lc rgb '#4a90c2' notitle, \
     '' index 0 using 1:3:4:5 with yerrorbars lc rgb '#222222' pt 7 ps 0.5 notitle
set title "(b) all six matrices of one layer group alone"
set xrange [-0.6:2.6]
plot 'fig1_accuracy_vader-movies.dat' index 1 using 1:3:xtic(2) with boxes lc rgb '#4a90c2' notitle, \
     '' index 1 using 1:3:4:5 with yerrorbars lc rgb '#222222' pt 7 ps 0.5 notitle
unset multiplot
unset output
