# Test accuracy against the budget on sentiment-yelp (table5-encoder, mean over seeds, 95% CI)
# written by adalora report; run with: gnuplot table5-encoder_accuracy_sentiment-yelp.gp
set terminal pngcairo noenhanced size 1200,600 font 'DejaVu Sans,11'
set output 'table5-encoder_accuracy_sentiment-yelp.png'
set title "Test accuracy against the budget on sentiment-yelp (table5-encoder, mean over seeds, 95% CI)"
set logscale x 2
set xrange [0.769230769:5.2]
set xtics ("1" 1, "2" 2, "4" 4)
set xlabel 'budget: final average rank per matrix (target_r)'
set ylabel 'test accuracy'
set yrange [0.772209197:0.992255625]
set grid
set key outside right top font ',9'
plot 'table5-encoder_accuracy_sentiment-yelp.dat' index 0 using ($1*0.959264119):2:3:4 with yerrorbars pt 7 lc 1 notitle, \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 0 using ($1*0.959264119):2 with linespoints lw 2 pt 7 lc 1 title "lora lr=0.0005", \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 1 using ($1*0.979420298):2:3:4 with yerrorbars pt 7 lc 2 notitle, \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 1 using ($1*0.979420298):2 with linespoints lw 2 pt 7 lc 2 title "lora-orth lr=0.002", \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 2 using ($1*1):2:3:4 with yerrorbars pt 7 lc 3 notitle, \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 2 using ($1*1):2 with linespoints lw 2 pt 7 lc 3 title "svd-lora lr=0.002", \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 3 using ($1*1.02101213):2:3:4 with yerrorbars pt 7 lc 4 notitle, \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 3 using ($1*1.02101213):2 with linespoints lw 2 pt 7 lc 4 title "adalora orth_reg_weight=0", \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 4 using ($1*1.04246576):2:3:4 with yerrorbars pt 7 lc 5 notitle, \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 4 using ($1*1.04246576):2 with linespoints lw 2 pt 7 lc 5 title "adalora"
unset output
reset
set terminal svg noenhanced size 1200,600 font 'DejaVu Sans,11'
set output 'table5-encoder_accuracy_sentiment-yelp.svg'
set title "Test accuracy against the budget on sentiment-yelp (table5-encoder, mean over seeds, 95% CI)"
set logscale x 2
set xrange [0.769230769:5.2]
set xtics ("1" 1, "2" 2, "4" 4)
set xlabel 'budget: final average rank per matrix (target_r)'
set ylabel 'test accuracy'
set yrange [0.772209197:0.992255625]
set grid
set key outside right top font ',9'
plot 'table5-encoder_accuracy_sentiment-yelp.dat' index 0 using ($1*0.959264119):2:3:4 with yerrorbars pt 7 lc 1 notitle, \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 0 using ($1*0.959264119):2 with linespoints lw 2 pt 7 lc 1 title "lora lr=0.0005", \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 1 using ($1*0.979420298):2:3:4 with yerrorbars pt 7 lc 2 notitle, \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 1 using ($1*0.979420298):2 with linespoints lw 2 pt 7 lc 2 title "lora-orth lr=0.002", \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 2 using ($1*1):2:3:4 with yerrorbars pt 7 lc 3 notitle, \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 2 using ($1*1):2 with linespoints lw 2 pt 7 lc 3 title "svd-lora lr=0.002", \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 3 using ($1*1.02101213):2:3:4 with yerrorbars pt 7 lc 4 notitle, \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 3 using ($1*1.02101213):2 with linespoints lw 2 pt 7 lc 4 title "adalora orth_reg_weight=0", \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 4 using ($1*1.04246576):2:3:4 with yerrorbars pt 7 lc 5 notitle, \
     'table5-encoder_accuracy_sentiment-yelp.dat' index 4 using ($1*1.04246576):2 with linespoints lw 2 pt 7 lc 5 title "adalora"
unset output
