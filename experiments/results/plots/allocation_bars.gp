# Final kept rank against planted ranks (table4-encoder/importance-sens-unc_init_r-2_method-adalora_target_r-1_seed-0)
# written by adalora report; run with: gnuplot allocation_bars.gp
set terminal pngcairo noenhanced size 1500,600 font 'DejaVu Sans,11'
set output 'allocation_bars.png'
set title "Final kept rank against planted ranks (table4-encoder/importance-sens-unc_init_r-2_method-adalora_target_r-1_seed-0)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by 90 right font ',9'
set ylabel 'rank'
set yrange [0:*]
set grid ytics
set key top right
plot 'allocation_bars.dat' using 2:xtic(1) title 'kept (final)' lc rgb '#21918c'
unset output
reset
set terminal svg noenhanced size 1500,600 font 'DejaVu Sans,11'
set output 'allocation_bars.svg'
set title "Final kept rank against planted ranks (table4-encoder/importance-sens-unc_init_r-2_method-adalora_target_r-1_seed-0)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by 90 right font ',9'
set ylabel 'rank'
set yrange [0:*]
set grid ytics
set key top right
plot 'allocation_bars.dat' using 2:xtic(1) title 'kept (final)' lc rgb '#21918c'
unset output
