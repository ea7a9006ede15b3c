# Test accuracy against the budget on sentiment-yelp (table1, mean over seeds, 95% CI)
# written by adalora report; run with: gnuplot table1_accuracy_sentiment-yelp.gp
set terminal pngcairo noenhanced size 1200,600 font 'DejaVu Sans,11'
set output 'table1_accuracy_sentiment-yelp.png'
set title "Test accuracy against the budget on sentiment-yelp (table1, mean over seeds, 95% CI)"
set logscale x 2
set xrange [0.769230769:5.2]
set xtics ("1" 1, "2" 2, "4" 4)
set xlabel 'budget: final average rank per matrix (target_r)'
set ylabel 'test accuracy'
set yrange [0.813074652:0.986925348]
set grid
set key outside right top font ',9'
plot 'table1_accuracy_sentiment-yelp.dat' index 0 using ($1*0.989656656):2:3:4 with yerrorbars pt 7 lc 1 notitle, \
     'table1_accuracy_sentiment-yelp.dat' index 0 using ($1*0.989656656):2 with linespoints lw 2 pt 7 lc 1 title "adalora", \
     'table1_accuracy_sentiment-yelp.dat' index 1 using ($1*1.01045145):2:3:4 with yerrorbars pt 7 lc 2 notitle, \
     'table1_accuracy_sentiment-yelp.dat' index 1 using ($1*1.01045145):2 with linespoints lw 2 pt 7 lc 2 title "lora lr=0.0005"
unset output
reset
set terminal svg noenhanced size 1200,600 font 'DejaVu Sans,11'
set output 'table1_accuracy_sentiment-yelp.svg'
set title "Test accuracy against the budget on sentiment-yelp (table1, mean over seeds, 95% CI)"
set logscale x 2
set xrange [0.769230769:5.2]
set xtics ("1" 1, "2" 2, "4" 4)
set xlabel 'budget: final average rank per matrix (target_r)'
set ylabel 'test accuracy'
set yrange [0.813074652:0.986925348]
set grid
set key outside right top font ',9'
plot 'table1_accuracy_sentiment-yelp.dat' index 0 using ($1*0.989656656):2:3:4 with yerrorbars pt 7 lc 1 notitle, \
     'table1_accuracy_sentiment-yelp.dat' index 0 using ($1*0.989656656):2 with linespoints lw 2 pt 7 lc 1 title "adalora", \
     'table1_accuracy_sentiment-yelp.dat' index 1 using ($1*1.01045145):2:3:4 with yerrorbars pt 7 lc 2 notitle, \
     'table1_accuracy_sentiment-yelp.dat' index 1 using ($1*1.01045145):2 with linespoints lw 2 pt 7 lc 2 title "lora lr=0.0005"
unset output
