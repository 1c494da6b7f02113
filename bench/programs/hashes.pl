# SPDX-License-Identifier: Apache-2.0 OR MIT
# Copyright 2026 the allocators authors.
#
# Hashes, arrays and strings, for //bench:compare's programs table.
#
#   perl hashes.pl SCALE
#
# Every round fills a hash of records (hash references with string fields
# and an array), builds an index keyed by derived strings, sorts keys, joins,
# splits and rewrites strings with regular expressions and sprintf, and
# deletes most records. Prints one line per round and a final digest that
# depends only on the work done (keys are always sorted before use, so
# Perl's randomised hash order never reaches the output), the same under
# every allocator.
use strict;
use warnings;

my $scale = @ARGV ? $ARGV[0] : 1;
my $rounds = int(4 * $scale + 0.5);
$rounds = 1 if $rounds < 1;
my $n = $scale >= 0.25 ? 30000 : int(120000 * $scale);
$n = 1000 if $n < 1000;

my $digest = 0;
sub mix {
  my ($s) = @_;
  for (my $i = 0; $i < length($s); $i += 7) {
    $digest = ($digest * 31 + ord(substr($s, $i, 1))) % 4294967291;
  }
}

my @keep;
for my $r (1 .. $rounds) {
  my (%records, %index);
  for my $i (1 .. $n) {
    my $id = $r * $n + $i;
    my $word = sprintf("w%x", ($id * 2654435761) % 4294967296);
    my $rec = {id => $id, name => $word x (1 + $id % 4),
               tags => [map { substr($word, 0, $_ + 1) . $_ } 1 .. $id % 6]};
    $records{"r$id"} = $rec;
    $index{"$word:" . ($id % 97)} = $rec;
  }
  my @keys = sort keys %index;
  my @parts;
  for (my $i = 0; $i < @keys; $i += 50) {
    push @parts, "$keys[$i]=" . join(",", @{$index{$keys[$i]}{tags}});
  }
  my $text = join(";", @parts);
  my $digits = 0;
  $digits += length($1) while $text =~ /(\d+)/g;
  (my $upper = $text) =~ s/w([0-9a-f]+)/"W" . uc($1)/ge;
  my @fields = split /[;=,]/, $upper;
  mix($text);
  mix($upper);
  my @ids = sort { $a <=> $b } map { $_->{id} } values %records;
  for (my $i = 0; $i < @ids; $i += 100) { push @keep, $records{"r$ids[$i]"} }
  delete @records{map { "r$_" } @ids};
  my $line = sprintf("round %d: %d records, %d keys, %d bytes, %d digits, %d fields",
                     $r, scalar(@ids), scalar(@keys), length($text), $digits,
                     scalar(@fields));
  mix($line);
  print "$line\n";
}
my $kept = 0;
$kept += length($_->{name}) for @keep;
printf("kept %d records, %d name bytes; digest %d\n", scalar(@keep), $kept,
       $digest);
