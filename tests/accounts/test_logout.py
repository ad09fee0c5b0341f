from django.urls import reverse


def test_it_says_you_have_signed_out_on_the_login_page(client, alice):
    client.force_login(alice)
    response = client.post(reverse("logout"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("login")
    assert "You have signed out." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_says_nothing_when_nobody_was_signed_in(client, db):
    response = client.post(reverse("logout"), follow=True)
    assert "You have signed out" not in response.content.decode()


def test_it_refuses_get(client, alice):
    client.force_login(alice)
    assert client.get(reverse("logout")).status_code == 405


def test_the_404_offers_an_anonymous_visitor_sign_in_not_their_accounts(client, db):
    body = client.get("/no-such-page/").content.decode()
    assert "Back to your accounts" not in body
    assert f'href="{reverse("login")}"' in body


def test_the_404_offers_a_customer_their_accounts(client, alice):
    client.force_login(alice)
    body = client.get("/no-such-page/").content.decode()
    assert "Back to your accounts" in body
