// Cairo draws the plots and the captions of sample grids: its image surface, PNG
// writer and text (DejaVu Sans through fontconfig and FreeType).
#include <cairo.h>
