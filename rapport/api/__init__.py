"""The versioned JSON API, assembled from each app's ``api.py`` router."""
