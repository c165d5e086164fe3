# fish completion for wasmpull (being written)
