"""factory_boy factories for the community core."""

import factory

from community.models import Community, Membership, MembershipStatus, Tier, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    openid = factory.Sequence(lambda n: f"openid-{n}")
    nickname = factory.Sequence(lambda n: f"成员{n}")


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    name = factory.Sequence(lambda n: f"社区{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    community = factory.SubFactory(CommunityFactory)
    user = factory.SubFactory(UserFactory)
    tier = Tier.MEMBER
    status = MembershipStatus.ACTIVE
    rules_accepted_version = factory.LazyAttribute(lambda m: m.community.rules_version)
