#!/usr/bin/perl
# echo.pl: the seeds' line echo. Each line read is printed back at once.
use strict;
use warnings;
$| = 1;
print while <STDIN>;
