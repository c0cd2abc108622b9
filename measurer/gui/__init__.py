"""measurer.gui"""
