from rest_framework.pagination import PageNumberPagination as BasePageNumberPagination


class PageNumberPagination(BasePageNumberPagination):
    """Pages of PAGE_SIZE items; clients may ask for up to 200 with ``?page_size=``.

    The React app asks for the crm module's ``contacts_per_page`` in the contacts
    list and for large pages when it loads the whole pipeline for the board.
    """

    page_size_query_param = "page_size"
    max_page_size = 200
