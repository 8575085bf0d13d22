"""Places: offline reverse geocoding (GeoNames places, Natural Earth country borders), great-circle
distance search and the country outlines the map draws. No Qt, no network."""
