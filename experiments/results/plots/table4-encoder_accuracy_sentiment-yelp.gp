# Test accuracy against the budget on sentiment-yelp (table4-encoder, mean over seeds, 95% CI)
# written by adalora report; run with: gnuplot table4-encoder_accuracy_sentiment-yelp.gp
set terminal pngcairo noenhanced size 1200,600 font 'DejaVu Sans,11'
set output 'table4-encoder_accuracy_sentiment-yelp.png'
set title "Test accuracy against the budget on sentiment-yelp (table4-encoder, mean over seeds, 95% CI)"
set logscale x 2
set xrange [0.769230769:5.2]
set xtics ("1" 1, "2" 2, "4" 4)
set xlabel 'budget: final average rank per matrix (target_r)'
set ylabel 'test accuracy'
set yrange [0.751281127:0.996718873]
set grid
set key outside right top font ',9'
plot 'table4-encoder_accuracy_sentiment-yelp.dat' index 0 using ($1*0.969289817):2:3:4 with yerrorbars pt 7 lc 1 notitle, \
     'table4-encoder_accuracy_sentiment-yelp.dat' index 0 using ($1*0.969289817):2 with linespoints lw 2 pt 7 lc 1 title "adalora importance=sens-unc", \
     'table4-encoder_accuracy_sentiment-yelp.dat' index 1 using ($1*0.989656656):2:3:4 with yerrorbars pt 7 lc 2 notitle, \
     'table4-encoder_accuracy_sentiment-yelp.dat' index 1 using ($1*0.989656656):2 with linespoints lw 2 pt 7 lc 2 title "adalora importance=sens", \
     'table4-encoder_accuracy_sentiment-yelp.dat' index 2 using ($1*1.01045145):2:3:4 with yerrorbars pt 7 lc 3 notitle, \
     'table4-encoder_accuracy_sentiment-yelp.dat' index 2 using ($1*1.01045145):2 with linespoints lw 2 pt 7 lc 3 title "adalora importance=magnitude", \
     'table4-encoder_accuracy_sentiment-yelp.dat' index 3 using ($1*1.03168318):2:3:4 with yerrorbars pt 7 lc 4 notitle, \
     'table4-encoder_accuracy_sentiment-yelp.dat' index 3 using ($1*1.03168318):2 with linespoints lw 2 pt 7 lc 4 title "prune-lora lr=0.0005"
unset output
reset
set terminal svg noenhanced size 1200,600 font 'DejaVu Sans,11'
set output 'table4-encoder_accuracy_sentiment-yelp.svg'
set title "Test accuracy against the budget on sentiment-yelp (table4-encoder, mean over seeds, 95% CI)"
set logscale x 2
set xrange [0.769230769:5.2]
set xtics ("1" 1, "2" 2, "4" 4)
set xlabel 'budget: final average rank per matrix (target_r)'
set ylabel 'test accuracy'
set yrange [0.751281127:0.996718873]
set grid
set key outside right top font ',9'
plot 'table4-encoder_accuracy_sentiment-yelp.dat' index 0 using ($1*0.969289817):2:3:4 with yerrorbars pt 7 lc 1 notitle, \
     'table4-encoder_accuracy_sentiment-yelp.dat' index 0 using ($1*0.969289817):2 with linespoints lw 2 pt 7 lc 1 title "adalora importance=sens-unc", \
     'table4-encoder_accuracy_sentiment-yelp.dat' index 1 using ($1*0.989656656):2:3:4 with yerrorbars pt 7 lc 2 notitle, \
     'table4-encoder_accuracy_sentiment-yelp.dat' index 1 using ($1*0.989656656):2 with linespoints lw 2 pt 7 lc 2 title "adalora importance=sens", \
     'table4-encoder_accuracy_sentiment-yelp.dat' index 2 using ($1*1.01045145):2:3:4 with yerrorbars pt 7 lc 3 notitle, \
     'table4-encoder_accuracy_sentiment-yelp.dat' index 2 using ($1*1.01045145):2 with linespoints lw 2 pt 7 lc 3 title "adalora importance=magnitude", \
     'table4-encoder_accuracy_sentiment-yelp.dat' index 3 using ($1*1.03168318):2:3:4 with yerrorbars pt 7 lc 4 notitle, \
     'table4-encoder_accuracy_sentiment-yelp.dat' index 3 using ($1*1.03168318):2 with linespoints lw 2 pt 7 lc 4 title "prune-lora lr=0.0005"
unset output
