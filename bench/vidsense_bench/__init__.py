"""Tools that measure the product from outside: the local stack's timings (``local``, make bench-local), the
functions' Lambda cold init (``cold``, make bench-cold) and the AWS cost model (``cost``, make cost)."""
