"""Platform layer: kept in step with the template by `copier update`.

Project code should import from here, not change it; changes belong upstream.
"""
