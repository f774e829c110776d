"""The project folder: the project, codebook and protocol files, their models and loading, and the paths the tool reads and writes."""
