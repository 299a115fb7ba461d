# cpu/: see the README in the top folder for what lives here.
