"""The provider's books: what-if quotes of a closed month, cost cards and margin."""
