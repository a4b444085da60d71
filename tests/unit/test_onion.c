/*
 * test_onion.c - onion paths: BUILD records, peeling, layered cells.
 *
 * The known-answer vectors below were printed by tests/unit/onion_kat.py,
 * a second, independent implementation of docs/onion.md in Python
 * (libsodium only through ctypes for X25519 and ChaCha20(-Poly1305),
 * hashlib for BLAKE2b), not by this code; make check does not run it.
 * Inputs: hop k (0..2) has onion secret 32 x (0x10 + k) and ephemeral
 * secret 32 x (0xa0 + k); the unused records are bytes j & 0xff; hop 0's
 * filler is 248 x 0xee; the cells are REQUEST, stream 7, body 32 x 0x55,
 * small, with counters 0 and 1. The descriptor: identity from the
 * Ed25519 seed 32 x 0x42, onion key X25519 of 32 x 0x43, not_after
 * 1900000000, 192.0.2.7 port 4242, as the body of a RELAYS holding it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/link.h"
#include "crypto/onion.h"
#include "tests/tap.h"

static const char KAT_K0_FWD_HEX[] =
    "d072f55a7fcd5be7bb60acc75c3e0516b22304763aa06f7962ac0c0592a60283";
static const char KAT_K0_BACK_HEX[] =
    "202338c20d78cbcdedf9864f5e51c10dfd412274bf28d8f8bb3481476b54e849";
static const char KAT_K2_DIG_HEX[] =
    "f2c4025505df35f40258cbf1827fccd2312fda2bf0ee3659a4fae49d79b84d23";
static const char KAT_BUILD_HEX[] =
    "f0b4fd8be480349293ab61f0505ebb5bafccdf8a4127de221e6ef3db20e03d29"
    "42a7dfb4c8c864696fba9786016302b4ad6acaca070f90d778fddaba03096f55"
    "d640f7dd97ac956ab0c6df4d344f0b460ecd16a8e4c90506f913122fc7bfdf1a"
    "3e8384c9deca961d282e62d2d678c5155d55c1a9a61591afbe3610f2e3794dad"
    "ee7105df4e6092ed3a570912c8f8a86e1ca7cc7f89297e82d77c18fcd48d0472"
    "91273e130ad07e97cf6d31fff3f8745170bd6f597c122f08932877be42a92b6e"
    "a9562832481f883b70c59f5a6eb853fff9999ed4507a292dcc6976277ee836bb"
    "3071b9e65e2c9b608d39bc80815b7115e5fd57962ae87266815d681826bc7f49"
    "fe70a89939f179dfdbf08bb5dc3b8a1ddce718e622446667c38c123f47930375"
    "7490510d0d16212ab334f192ef78c51e2c1a7e464f91957770cde13593648da5"
    "33898a59fdb5804cbb3fa9baa254d434fe230ff6a9fd0b78eee2d469c7e1ad16"
    "a7b4fa146251f8691d5b4d2438a253bc1152b6ec106ea197d93252554f722671"
    "f01bd7ae1968154b5f1b7e8f75ac8d924f5e15220f6478af0fa47273e63080f2"
    "7ab526d4a0e15195adb77738a06df95881828aaafcc32493e6eb47b9b61ba8dd"
    "5bfb5ed902c8268a72bf54249ec7371a4fc9ad18ec2df60c37edbb4922699447"
    "56a443c70b1115fd02632ecc7828f8087ef7130bf2d5f0836307a959584aae18"
    "303683cda9310049cae3c44d570ea3dc02355558a17dd0410666d5780ddc5564"
    "acd31ac9a95d8a237af861bd615f4e5306601cdadc7e74700456f44ac21afb25"
    "44c6371f011bcafe112cdcf3048e48ce199714dabbae35120105ca0fe984badd"
    "e3123348d1f4df0a15e73b976c58cf9957491d463f0c93cad2ac31567a6a9c73"
    "5fe988155d0726f6dbcd3d59cc13874e8a8e1ae1f086cfbf0a442611147a90e2"
    "b9e205b92bc59aca57506b5b186d3684e765574e82f58a6cf35bedfc6a05143b"
    "b164e76e11a2197e9f6d90929a8d215f6e0c1b5359b039fff5fdb2832a60135b"
    "bf2f248fabf956fa000102030405060708090a0b0c0d0e0f1011121314151617"
    "18191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637"
    "38393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f5051525354555657"
    "58595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f7071727374757677"
    "78797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f9091929394959697"
    "98999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7"
    "b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7"
    "d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7"
    "f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f1011121314151617"
    "18191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637"
    "38393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f5051525354555657"
    "58595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f7071727374757677"
    "78797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f9091929394959697"
    "98999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7"
    "b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7"
    "d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7"
    "f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f1011121314151617"
    "18191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637"
    "38393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f5051525354555657"
    "58595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f7071727374757677"
    "78797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f9091929394959697"
    "98999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7"
    "b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7"
    "d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7"
    "f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f1011121314151617"
    "18191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637"
    "38393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f5051525354555657"
    "58595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f7071727374757677"
    "78797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f9091929394959697"
    "98999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7"
    "b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7"
    "d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7"
    "f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f1011121314151617"
    "18191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637"
    "38393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f5051525354555657"
    "58595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f7071727374757677"
    "78797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f9091929394959697"
    "98999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7"
    "b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7";
static const char KAT_AFTER0_HEX[] =
    "c306fb0ef2bf8b7f93bad98155fa37daec74db0c4cbeda6c6f1dba9d36558252"
    "ce6a0649851737a9759c2b755cc7380579c46c7e93232f5735ea9a2df0dc0940"
    "3ce8c63de3261b05933df66d50b6a8573d1f39fb124940d25def73239945919f"
    "6da3a0a770bd9744c4ac88688788e704bb8c11c779bea4b1a90c585094557b9d"
    "e77198b54273c90946f1079e073f26b049ad662901e8294a1f16ddfafdf5b810"
    "54f9805f4cf66e19ef93ffff57dfd8359a255e4ff539f81a20077ce58fa64b5a"
    "f14d8145a93453d09ad46825e37c1d91a2780aa44b2e47f55f3c02bc02a5154e"
    "5c13c65af35dd618a71ddc5a16983b8b4dd9943fa0dd68be197c339916a04a95"
    "2d7fd8ccf1feb6bd0ef24ce15757e49a8a97adc0727cd57914ba4f8fe971fd01"
    "20062b0d1b469df40e403ccb1275194f87e6b44be35e8337eb268fa12c71b0c4"
    "3d24bfa554e2a60b496b99d2e2ae6342a0cfbc72140e9d540eb72ce704e21c6b"
    "4e55c7e42074b223ef936af42b69338e4c7089c9f4fb7c92ea97447278548c2c"
    "444f884bf388337bb81a9e2f235908187d6039a59ed1b7fa972a0f439bd6c942"
    "15a06acece42013ebc738a57e7870bc424d32f187b81bd4d0d7bf1e6e64badbf"
    "f6b082739cea578e15e71fea11ccbb9799f0efdc8680811565ae4178ec9c2851"
    "ede7a76058ead4f88044b05e2376db644b406b2c88bedd9e80495c06fdffc468"
    "80282529e5b9890948e037ac971d31935e543192485f16a667fbfaee23686176"
    "3e41e1fa34042b742f8a977357838d978d93fe2727b5921fd24b15ec8ea8c432"
    "dafb5fde6a48cc9d45bdc202bdf4b7e6068e4c4396a7040bc49e8eed41a4ff32"
    "15abb32cf363d26e99912b367ba30cb5368d3cef50749065a122590ab3ed9c0b"
    "015cdef9397ed1ca331760277bf851f2a7616b4df8e3309e5324b2cfe0479392"
    "ccb7d097870547c389adb772e4e83d507cf58a0153a1dff9b8d5cfa9ed7aac6d"
    "b763d4b476988c567b1f8b35005ef98c9b884bccdb6423bb9aa928439ead50e6"
    "2e06554a1df7c9b5e499f87b560bc77de6a902bae70571ed9d775e0961cbf88a"
    "54bc7d96203cee74ad3d86e3197f3c732e8b0d9b07c575e16595093ad4774e3c"
    "d7779d0829201c5983e820916e9ed4fa8bf435eac6bfafa5eed871b38692929a"
    "18994b916cbcdc48df0e27f292d892611c37ba8c38911f618f4cd5eb71f01d47"
    "724d4dc6b5b9d7dc8a6a73b4316d3c4e24d9c1c7d1a0c8004096484a2c0cc825"
    "cd1fdae8b426be4e5b79069d29b193c6cb9a5951de4ceb60e24192b38106f258"
    "b16930b99313512ae08c06d518f6a74eed4f7bdc46b1d7c6965f4bf25234dee2"
    "a0678b70705a8b5ac6b75f0d7015f043f44ed24b2c501a9683cf97f445de921c"
    "7b1250eb7337bca27714c63d37ede6893c21b2a336babc3fb778055bc243867a"
    "2d9e4caa878716033aea01876f54bbffd151206be22b428f83b6475d04a109a7"
    "dc44aafe66a089e41a2f921b5e5f82d61e382e3fd18e296f5ab662ea6f375c18"
    "af01a8e3faa3ecc9f893cb88352323391ca5d2ff025f753224c5847ebaf358fa"
    "a25bf066f79f7d76af4e50ad35349e64b0984fffc7da0e564490fc51f3deb3d3"
    "740ddd4f733bb67db6a3789eb71273a4cfdeae66b1987948c1b7075baf4f2ea4"
    "dc954193ae8a22c731c1cbc829b64f0c291550fc7864a0d3b484dbd952b742cc"
    "643ecc4fcfa1cf1e374fa62efd0f322d7b62939428b05319e9e2003fd911cc6b"
    "3460677c32c8a30b36b45f77a78f01a845e6f38900764d7424e8b365ab2e4a87"
    "a0794852c7cc5f9a58796e0c350fac551e5a7b09f54f1e1415bc0c91ffb5eef2"
    "9b0371fe89c96a450d2a7d489e531575d94168d306b40f38061b8bedc2627048"
    "01db95d89dc44c7802dc87d940f5a6152241252929becda8ba0410418d8cb9cf"
    "0697bddb260b959e56e767046b5ee35a0c65a0f7e7994cfc87ecb715302318f4"
    "0939f77166b3855953c189c59ef3bb3769abf2e01735acc3eaa528a72018dc34"
    "35e8d907e71ad81a5c3d942b575cc05fd262fd3f21699b263f67c4778e888bf5"
    "1ea9a57664adc3fad19ba9724c36543fa8c898da8aad64223e11c2b5066871bd"
    "68c0e1d9e8717c5606572a8d782baf7b407926bddc5d8c06d95332248e734aa0"
    "7225ec6b3c555bfe0e85768ee9307694b4a9aa3010f1674334cc1785a909cbfe"
    "b3d0b1e4df912010f22b35cfa731f989d1047dc2dab71fa675d28f98251736cd"
    "046125714e881e879ba216e3b2bdb8346b04e1d2a091f7303082b50fb90e4e36"
    "863ac49035c120e3c61fae9df21d5024312061e3af0b787cbf00eae8777161a9"
    "8ebd9bfbabcd87c42e54aa85682306a583212b23ee2248fc205516d5f115bd05"
    "6b407c9150b17c6a345676300598b4a87196292ab7a15e6d70700a72ac938b94"
    "2840ba335c1a738deeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
static const char KAT_CELL0_HEX[] =
    "8624b0a8b739f3509ef653bc6d3fe2a17fedd3e9c3493db9eea8753b48e976e3"
    "e37e4b1e6eaf678609951bc4684183389986ace8ad7c8320c89e56a5049702f4"
    "acd7ec8aae7191a224f2164c251eed0e6586d81c71b53965278d820bd0ee7469"
    "d2a47d657909a9acba2d08301661b8cf834ac770f28762dfa36d5a737d82bbcd"
    "27a619a788c5101e94659ef04fb79f09e24fae56166bfe0166cfc85902dd08c3"
    "7a311b5353b7e35187befbe52edc19dd19db47886a2e3ae19628c665a0f7c26b"
    "4937167f5de2a11fc516effa3c5803e74f29f7ad88579dcd0cad0d1b4a1b3d03"
    "7644923d801c50a6e2d5458e47923d991425ade6f0a081ae2b4d440eb9635e10"
    "1282a51cf2744a1291ed43e470373f39133c416d8c5d6f7cd7e29a2c93b6536d"
    "c24a7eaa3c005160d12920860f7ff41ffd2fd6fe379c5bca50e996a5bd357797"
    "67b86aeb8e75f00e4a78c765d2b522e6b4d5173d156d2049afd72607cff7cbf7"
    "e9c0c5cef276b66e6d8e4a2d452de09e9156693ad569e70e64946b7e7ce63d5c"
    "16751601882c08b417892043be149ba0b0def29a5dff21aa8f0dd3fe09856ae0"
    "c725ec683584dfaf3495071ab17ae99bb8c87ae084548480302e75b9e1977e95"
    "43da63dbaf68b7801977189f4882944bed6f85782d38d59cd356816edb837cdc"
    "3f7cfc560f426c855db03a6c92f9e0e7595f60375b0a1ad1294e4404cbcd5177"
    "5ca91c4a363757af2573fbf7d941f6987e679e72df1849233afa402a355acecb"
    "5fd91bf7fa2179c91cedc6c28ccc0e8db5caa5a6c815bfcb9be0926497ecb47d"
    "433c52e6d565b5fc432b0d2187db0b14dee0acf636d5a4a4e644222b05cfc1f6"
    "8157dd479d87aff1183bf7ee6e2fd316f89487beb52335642c75774842d9241d"
    "83a9c01ed896f61471606a2a0680b5ea70b07f7e2cd27cf1fb4080677afaf045"
    "577f47a75a5795486c241eb545c709572e0af1da3e74f8f31b5e206ad5266f88"
    "3c8c599457fd50564edf46b452b461e4d9a9b697732c9dc95d6da3ad6c79d202"
    "dcaf2da24edba14973b2bcfe99df2be28ddc3b2399fe9cfffb0171520f9b77a4"
    "878e0187d1c3eced870357b70763aa8711e9ec5fdc2235006bbc01c73e65fc00"
    "7b25ffe6ef29f33ca98127ddc585d408e55c3cab41a4497d4c8ed5dc98e4f8d6"
    "650d57d63f0a62a4b11fc0838d93beea408540f6cb2035b54056f86b4166ab4b"
    "4f73b05e0de1685372de5ca37b44f68097e7d6f4987789c28ba667d774b82d90"
    "31d59f3e07a015efd7b20fae8cabfb1e69c4c935f6d93c424ef58acf411c79de"
    "d4dd9f92db439b6a138e798e97fef33709c429d10913ef1def40c8102c9f6072"
    "964fbae0f98f119b410fd05485b8c497e6b3ea7bacef06f670a26b4133e26124"
    "b3e74bd40279e9f7d7340bbc53467f5b84018cdde3f3931ce637dd885119f84a"
    "153c46ca23498c7d7b7b08c6aff9c83e143e4f245b8654f82a75f3458322143c"
    "e66829fe071d8e60f116bc5ef97fdbfa709a3164df91ed49bea5adc56481ff91"
    "b00bd4d01d12ce4f7d59676515470c039eb2dcc78cc6cfe4a34f10c8feabed2b"
    "0e596070b9cdf7a264b360748a5739c447593d964f8776f109c513041291c157"
    "1a2cda27999185918cd34f1526f0150d779584905bf496a27c698e5fb9aeb49d"
    "cd6df2152a4871a24e488c43868631e952b2c2ff75180a341b7c675eb034ed24"
    "2639c4d6665fa5bb61397a6404aebe7f958e989d1f1a5c0d70e4a3ebc5bd78be"
    "f250a8e951be1883a85eae6b27d13623f04498916ec7d73d22b3021db7991756"
    "d47fe12b848928b5d4f664b3fdf645b454698db16ad1ec1a03d6a680ba7b532c"
    "4de8512e5199cababf0e6de16819ca290bf6360cdf68181a887243dc1d672df3"
    "ebcfee3ce3db57739ac013f36a4d214481e88d731b05d9517866ffd98949d38f"
    "cc7efbf3edb805de38ab215ef18030bb35b4fc6ec6dd6cce15a93e2ca269c7bd"
    "46285143030f87ba2e974376a40ce355d6e1cbf67dc6f73c7cc2ea582a4265e4"
    "b17f3f7f9e3d2fdbfa75050330e686453753e286865b1057066dc99e48b87e89"
    "9e4990cbd8e6b366a104094e6d1838aa6065c0c0970ecee9fc879640973542ea"
    "87504d41d195cbebedf7330a8c33edde76e74d64e5ec94996daef2d7c9709b47"
    "2d690041c63ba65ed349fa2275d0ee5f9e3e82004d89066c9d4964ab74a21230"
    "6dd6127fc9313e89ba859b1786fca8d1691d9dd07f3b0b832bcb743a837cd72c"
    "fcfcdaae076dad0e2a660e797e99e6a60d7afc8e288cbf92002bd4a9218efd74"
    "64aa75f01ff622489ce4b9c8c94e64ed7b60d4e059129bd09732be5bcbf43b50"
    "04428a64a994b50c13b2279eb55febe7eb8c1d5b9c5b384abec8e98b196059cf"
    "193704e7a6b05619025b6799b2a339265dbbed66f25f00926f12eb737e475972"
    "3ddb4f54f5e7c85a808af11ab02fc76797e946efc198ea47799a8508235c12ed"
    "e0a574a98d36e38754498c2811658473eae0c7b4dc0a0f5828290e266d807edd"
    "614a1ce8f257e7afebb36402a6cc4c4d9e7f7ae40204b7e8470ea36161134968"
    "10e2ef475f6635ca3cddaada7aa52c3f8c4ad6821ce15f0c3b33282c22647535"
    "109a8e0d4983855ac38621414b433fdc2d684145bb8c6c5652ad4d0a7ba94717"
    "cda3c90bd9e81732bfc9f7786d46184e24732a7d97c80a1f645993d00ba99b6c"
    "2a35955060fab94d75ffcffe52106847944769fda070a80a5552df0e652084bc"
    "43232d97aabd91ddf675cf516bafe59f22ac3113467c6545adf1bf5a2892660a"
    "b599439a305cd540a14304235a1444009a16777aaf714651f3eb1cedaa6a32a4"
    "1ba23433c830386ab37c8614c2232a891a9e38fccb";
static const char KAT_CELL1_B2B_HEX[] =
    "e79e87f107ddc9ba4aa6824ac32d345b4253cffa9bfd2fcbc3c567ed1fba86eb";
static const char KAT_RELAYS1_HEX[] =
    "012152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db"
    "12cdefd8783a91b446640e2e1f95599db35e484a0071bd2182b3b60d0812c10c"
    "7000000000713fb30004c00002070000000000000000000000001092fc0119dc"
    "dd834c0bb5167e20b0ec1270a56ca72c2cb017d6c3a45c8bf634c8d7076987ac"
    "1ef498043a63e0bc70d0b8e0c579e9e898543e4f7db2c66b4897ff07";

#define RB ONION_RECORD_BYTES
#define SMALL ONION_CELL_SMALL_BYTES
#define LARGE ONION_CELL_LARGE_BYTES

/* Eight relays and a path through the first n of them. */
struct net {
	uint8_t sk[ONION_MAX_HOPS][ONION_SECRETKEYBYTES];
	struct onion_build_hop hops[ONION_MAX_HOPS];
};

struct path {
	size_t n;
	struct onion_hop_keys origin[ONION_MAX_HOPS];	/* from make */
	struct onion_hop_keys relay[ONION_MAX_HOPS];	/* from open */
	struct onion_dir o_fwd, o_back;			/* origin */
	struct onion_dir r_fwd[ONION_MAX_HOPS], r_back[ONION_MAX_HOPS];
};

static uint8_t big[2 * LARGE];

static void
hex(uint8_t *out, size_t n, const char *h)
{
	size_t got = 0;

	if (sodium_hex2bin(out, n, h, strlen(h), NULL, &got, NULL) != 0 ||
	    got != n)
		abort();
}

static bool
eq_hex(const uint8_t *p, size_t n, const char *h)
{
	if (n > sizeof(big) || strlen(h) != 2 * n)
		return false;
	hex(big, n, h);
	return memcmp(p, big, n) == 0;
}

/* The instructions of onion_kat.py: hop k points at k + 1; the last is
 * the exit with zero next fields. */
static void
net_init(struct net *net, size_t n)
{
	memset(net, 0, sizeof(*net));
	for (size_t k = 0; k < ONION_MAX_HOPS; k++) {
		struct onion_instr *in = &net->hops[k].instr;

		memset(net->sk[k], 0x10 + (int)k, ONION_SECRETKEYBYTES);
		crypto_scalarmult_base(net->hops[k].onion_pk, net->sk[k]);
		if (k + 1 == n) {
			in->flags = ONION_FLAG_EXIT;
			continue;
		}
		memset(in->next_id, 0x31 + (int)k, ONION_IDBYTES);
		in->family = 4;
		in->addr[0] = 10;
		in->addr[3] = (uint8_t)(k + 2);
		in->port = (uint16_t)(4001 + k);
	}
}

static bool
instr_eq(const struct onion_instr *a, const struct onion_instr *b)
{
	return a->flags == b->flags && a->family == b->family &&
	    a->port == b->port && memcmp(a->next_id, b->next_id, 32) == 0 &&
	    memcmp(a->addr, b->addr, 16) == 0;
}

/* Does the record at position pos of msg open with sk? msg untouched. */
static bool
opens_at(const uint8_t *msg, size_t pos, const uint8_t *sk)
{
	uint8_t m[ONION_BUILD_BYTES];
	struct onion_instr in;
	struct onion_hop_keys k;
	bool ok;

	memcpy(m, msg, sizeof(m));
	memcpy(m, msg + pos * RB, RB);
	ok = onion_build_open(sk, m, &in, &k) == ONION_OK;
	onion_hop_keys_wipe(&k);
	return ok;
}

/* Builds a path of n hops: every hop opens its own record in turn. */
static bool
path_build(struct path *p, const struct net *net, size_t n)
{
	uint8_t msg[ONION_BUILD_BYTES];
	struct onion_instr in;

	memset(p, 0, sizeof(*p));
	p->n = n;
	if (onion_build_make(net->hops, n, msg, p->origin) != ONION_OK)
		return false;
	for (size_t k = 0; k < n; k++) {
		if (onion_build_open(net->sk[k], msg, &in, &p->relay[k]) != 0 ||
		    !instr_eq(&in, &net->hops[k].instr))
			return false;
		onion_dir_init(&p->r_fwd[k], p->relay[k].k_dig);
		onion_dir_init(&p->r_back[k], p->relay[k].k_dig);
	}
	onion_dir_init(&p->o_fwd, p->origin[n - 1].k_dig);
	onion_dir_init(&p->o_back, p->origin[n - 1].k_dig);
	return true;
}

static void
path_wipe(struct path *p)
{
	sodium_memzero(p, sizeof(*p));
}

static void
test_known_answers(void)
{
	uint8_t e_sk[3][ONION_SECRETKEYBYTES], msg[ONION_BUILD_BYTES];
	uint8_t unused[5 * RB], filler[RB], cell[SMALL], body[32], h[32];
	struct onion_hop_keys keys[3], k0;
	struct onion_instr in;
	struct onion_dir fwd;
	struct net net;
	bool ok = true;

	net_init(&net, 3);
	for (size_t k = 0; k < 3; k++)
		memset(e_sk[k], 0xa0 + (int)k, ONION_SECRETKEYBYTES);
	for (size_t j = 0; j < sizeof(unused); j++)
		unused[j] = (uint8_t)j;
	memset(filler, 0xee, sizeof(filler));
	TAP_OK(onion_build_make_with_ephemeral(net.hops, 3,
	    (const uint8_t (*)[32])e_sk, unused, msg, keys) == 0 &&
	    eq_hex(msg, sizeof(msg), KAT_BUILD_HEX), "kat: BUILD message");
	TAP_OK(eq_hex(keys[0].k_fwd, 32, KAT_K0_FWD_HEX) &&
	    eq_hex(keys[0].k_back, 32, KAT_K0_BACK_HEX) &&
	    eq_hex(keys[2].k_dig, 32, KAT_K2_DIG_HEX), "kat: hop keys");
	TAP_OK(onion_build_open_with_filler(net.sk[0], msg, filler, &in,
	    &k0) == 0 && eq_hex(msg, sizeof(msg), KAT_AFTER0_HEX) &&
	    memcmp(&k0, &keys[0], sizeof(k0)) == 0 &&
	    instr_eq(&in, &net.hops[0].instr), "kat: BUILD after hop 0");
	memset(body, 0x55, sizeof(body));
	onion_dir_init(&fwd, keys[2].k_dig);
	for (int i = 0; i < 2; i++)
		ok &= onion_cell_format(cell, SMALL, 1, 7, body, 32) == 0 &&
		    onion_cell_wrap_fwd(keys, 3, &fwd, cell, SMALL) == 0 &&
		    (i == 1 || eq_hex(cell, SMALL, KAT_CELL0_HEX));
	crypto_generichash(h, 32, cell, SMALL, NULL, 0);
	TAP_OK(ok && eq_hex(h, 32, KAT_CELL1_B2B_HEX) && fwd.ctr == 2,
	    "kat: forward cells 0 and 1 wrapped for 3 hops");
	onion_dir_wipe(&fwd);
	onion_hop_keys_wipe(&k0);
	sodium_memzero(keys, sizeof(keys));
}

/* At every stage only hop k's key opens, and only at position 0. */
static bool
only_own_opens(const uint8_t *msg, const struct net *net, size_t k)
{
	for (size_t pos = 0; pos < ONION_MAX_HOPS; pos++)
		for (size_t m = 0; m < ONION_MAX_HOPS; m++)
			if (opens_at(msg, pos, net->sk[m]) !=
			    (pos == 0 && m == k))
				return false;
	return true;
}

static void
test_round_trips(void)
{
	uint8_t msg[ONION_BUILD_BYTES];
	struct onion_hop_keys origin[ONION_MAX_HOPS], relay;
	struct onion_instr in;
	struct net net;

	for (size_t n = 1; n <= ONION_MAX_HOPS; n++) {
		bool ok = true, alone = true, exit_last = true;

		net_init(&net, n);
		ok &= onion_build_make(net.hops, n, msg, origin) == 0;
		for (size_t k = 0; ok && k < n; k++) {
			alone &= only_own_opens(msg, &net, k);
			ok &= onion_build_open(net.sk[k], msg, &in, &relay) ==
			    0 && instr_eq(&in, &net.hops[k].instr) &&
			    memcmp(&relay, &origin[k], sizeof(relay)) == 0;
			exit_last &= (in.flags == ONION_FLAG_EXIT) ==
			    (k + 1 == n);
		}
		TAP_OK(ok, "n=%zu: each hop opens its record and instruction",
		    n);
		TAP_OK(exit_last, "n=%zu: the exit flag only at the last", n);
		TAP_OK(alone, "n=%zu: no other key, no other position opens",
		    n);
		TAP_OK(only_own_opens(msg, &net, ONION_MAX_HOPS),
		    "n=%zu: after the exit no record opens with any key", n);
	}
	onion_hop_keys_wipe(&relay);
	sodium_memzero(origin, sizeof(origin));
}

static void
test_build_errors(void)
{
	uint8_t msg[ONION_BUILD_BYTES], copy[ONION_BUILD_BYTES];
	static const size_t flips[] = { 0, 31, 32, 100, 231, 232, 247 };
	struct onion_hop_keys keys[ONION_MAX_HOPS];
	struct onion_instr in;
	struct net net;
	bool ok = true;

	net_init(&net, 3);
	TAP_OK(onion_build_make(net.hops, 3, msg, keys) == 0, "make n=3");
	for (size_t f = 0; f < sizeof(flips) / sizeof(flips[0]); f++) {
		msg[flips[f]] ^= 0x01;
		memcpy(copy, msg, sizeof(msg));
		ok &= onion_build_open(net.sk[0], msg, &in, keys) < 0 &&
		    memcmp(msg, copy, sizeof(msg)) == 0;
		msg[flips[f]] ^= 0x01;
	}
	TAP_OK(ok, "a flipped byte anywhere in the record fails, msg unchanged");
	TAP_OK(onion_build_open(net.sk[0], msg, &in, keys) == 0,
	    "the unflipped record still opens");
	memset(msg, 0, RB);	/* e_i = 0: a low-order point */
	TAP_OK(onion_build_open(net.sk[0], msg, &in, keys) == ONION_EKEY,
	    "an all-zero DH result is refused");
	TAP_OK(onion_build_make(net.hops, 0, msg, keys) == ONION_EINVAL &&
	    onion_build_make(net.hops, 9, msg, keys) == ONION_EINVAL,
	    "n outside 1..8 refused");
	net.hops[1].instr.flags = 2;
	TAP_OK(onion_build_make(net.hops, 3, msg, keys) == ONION_EINVAL,
	    "unknown flags refused by make");
	net_init(&net, 3);
	memset(net.hops[2].onion_pk, 0, 32);
	TAP_OK(onion_build_make(net.hops, 3, msg, keys) == ONION_EKEY &&
	    sodium_is_zero(msg, sizeof(msg)), "a low-order onion key: EKEY");
	sodium_memzero(keys, sizeof(keys));
}

/* A record sealed by hand (the KDF of docs/onion.md), to reach the
 * checks after the tag: reserved bytes and flags. */
static void
seal_by_hand(uint8_t rec[RB], const uint8_t onion_pk[32],
    const uint8_t plain[ONION_PLAIN_BYTES])
{
	static const uint8_t nonce0[12];
	uint8_t e_sk[32], e_pub[32], s[32], h[32], hin[64], k[32], lab[35];

	memset(e_sk, 0x77, sizeof(e_sk));
	crypto_scalarmult_base(e_pub, e_sk);
	if (crypto_scalarmult(s, e_sk, onion_pk) != 0)
		abort();
	memcpy(hin, e_pub, 32);
	memcpy(hin + 32, onion_pk, 32);
	crypto_generichash(h, 32, hin, 64, NULL, 0);
	memcpy(lab, h, 32);
	memcpy(lab + 32, "rec", 3);
	crypto_generichash(k, 32, lab, sizeof(lab), s, 32);
	memcpy(rec, e_pub, 32);
	crypto_aead_chacha20poly1305_ietf_encrypt(rec + 32, NULL, plain,
	    ONION_PLAIN_BYTES, e_pub, 32, NULL, nonce0, k);
}

static void
test_record_format(void)
{
	uint8_t msg[ONION_BUILD_BYTES] = { 0 }, copy[ONION_BUILD_BYTES];
	uint8_t plain[ONION_PLAIN_BYTES] = { 0 };
	struct onion_hop_keys keys;
	struct onion_instr in;
	struct net net;

	net_init(&net, 1);
	plain[0] = 1;
	seal_by_hand(msg, net.hops[0].onion_pk, plain);
	memcpy(copy, msg, sizeof(msg));
	TAP_OK(onion_build_open(net.sk[0], copy, &in, &keys) == 0 &&
	    in.flags == 1, "a record sealed by hand opens");
	plain[ONION_PLAIN_BYTES - 1] = 1;
	seal_by_hand(msg, net.hops[0].onion_pk, plain);
	memcpy(copy, msg, sizeof(msg));
	TAP_OK(onion_build_open(net.sk[0], msg, &in, &keys) == ONION_EFORMAT &&
	    memcmp(msg, copy, sizeof(msg)) == 0,
	    "nonzero reserved bytes: EFORMAT, msg unchanged");
	plain[ONION_PLAIN_BYTES - 1] = 0;
	plain[0] = 3;
	seal_by_hand(msg, net.hops[0].onion_pk, plain);
	TAP_OK(onion_build_open(net.sk[0], msg, &in, &keys) == ONION_EFORMAT,
	    "unknown flags: EFORMAT");
	onion_hop_keys_wipe(&keys);
}

/* Origin to exit: returns what the exit said; the relays must pass on. */
static int
send_fwd(struct path *p, uint8_t *cell, size_t size, size_t tamper_hop)
{
	for (size_t k = 0; k + 1 < p->n; k++) {
		if (onion_cell_peel_fwd(&p->relay[k], &p->r_fwd[k], cell,
		    size) != ONION_CELL_PASS_ON)
			return -100;
		if (k == tamper_hop)
			cell[20] ^= 0x04;
	}
	return onion_cell_peel_fwd(&p->relay[p->n - 1], &p->r_fwd[p->n - 1],
	    cell, size);
}

static bool
fwd_ok(struct path *p, size_t size, uint32_t stream)
{
	uint8_t *cell = big + LARGE, body[40], cmd;
	const uint8_t *b;
	uint32_t st;
	size_t len;

	memset(body, (int)stream, sizeof(body));
	return onion_cell_format(cell, size, 1, stream, body, 40) == 0 &&
	    onion_cell_wrap_fwd(p->origin, p->n, &p->o_fwd, cell, size) == 0 &&
	    send_fwd(p, cell, size, SIZE_MAX) == ONION_CELL_RECOGNIZED &&
	    onion_cell_parse(cell, size, &cmd, &st, &b, &len) == 0 &&
	    cmd == 1 && st == stream && len == 40 &&
	    memcmp(b, body, 40) == 0;
}

static void
test_forward(void)
{
	static const size_t ns[] = { 1, 2, 3, 8 };
	uint8_t c1[SMALL], c2[SMALL];
	struct path p;
	struct net net;

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		bool ok;

		net_init(&net, ns[i]);
		ok = path_build(&p, &net, ns[i]);
		for (uint32_t s = 1; s <= 5; s++)
			ok &= fwd_ok(&p, s % 2 ? SMALL : LARGE, s);
		TAP_OK(ok, "n=%zu: 5 forward cells, only the exit recognizes",
		    ns[i]);
		path_wipe(&p);
	}
	net_init(&net, 3);
	TAP_OK(path_build(&p, &net, 3) && fwd_ok(&p, SMALL, 1) &&
	    onion_cell_format(c1, SMALL, 1, 2, NULL, 0) == 0 &&
	    onion_cell_wrap_fwd(p.origin, 3, &p.o_fwd, c1, SMALL) == 0 &&
	    send_fwd(&p, c1, SMALL, 1) == ONION_CELL_PASS_ON,
	    "one bit flipped by a middle relay: the exit does not recognize");
	TAP_OK(!fwd_ok(&p, SMALL, 3) && !fwd_ok(&p, SMALL, 4),
	    "and every later cell breaks too");
	path_wipe(&p);
	TAP_OK(path_build(&p, &net, 3) &&
	    onion_cell_format(c1, SMALL, 1, 1, NULL, 0) == 0 &&
	    onion_cell_format(c2, SMALL, 1, 2, NULL, 0) == 0 &&
	    onion_cell_wrap_fwd(p.origin, 3, &p.o_fwd, c1, SMALL) == 0 &&
	    onion_cell_wrap_fwd(p.origin, 3, &p.o_fwd, c2, SMALL) == 0 &&
	    send_fwd(&p, c2, SMALL, SIZE_MAX) == ONION_CELL_PASS_ON,
	    "a reordered cell is not recognized");
	path_wipe(&p);
	TAP_OK(path_build(&p, &net, 3) &&
	    onion_cell_format(c1, SMALL, 1, 1, NULL, 0) == 0 &&
	    onion_cell_wrap_fwd(p.origin, 3, &p.o_fwd, c1, SMALL) == 0 &&
	    (memcpy(c2, c1, SMALL), 1) &&
	    send_fwd(&p, c1, SMALL, SIZE_MAX) == ONION_CELL_RECOGNIZED &&
	    send_fwd(&p, c2, SMALL, SIZE_MAX) == ONION_CELL_PASS_ON,
	    "a replayed cell is not recognized");
	path_wipe(&p);
}

/* Exit to origin, with an optional bit flipped after hop tamper_hop. */
static int
send_back(struct path *p, uint8_t *cell, size_t size, size_t tamper_hop)
{
	size_t e = p->n - 1;

	if (onion_cell_seal_back(&p->relay[e], &p->r_back[e], cell, size) != 0)
		return -100;
	for (size_t k = e; k-- > 0;) {
		if (k + 1 == tamper_hop)
			cell[30] ^= 0x80;
		if (onion_cell_wrap_back(&p->relay[k], &p->r_back[k], cell,
		    size) != 0)
			return -100;
	}
	return onion_cell_open_back(p->origin, p->n, &p->o_back, cell, size);
}

static void
test_backward(void)
{
	static uint8_t block[LINK_BLOCK_BYTES];
	uint8_t *cell = big, cmd;
	const uint8_t *b;
	uint32_t st;
	size_t len;
	struct path p;
	struct net net;
	bool ok = true;

	randombytes_buf(block, sizeof(block));
	for (size_t n = 1; n <= ONION_MAX_HOPS; n++) {
		net_init(&net, n);
		ok &= path_build(&p, &net, n);
		for (uint32_t s = 0; s < 3; s++)
			ok &= onion_cell_format(cell, LARGE, 2, s, block,
			    sizeof(block)) == 0 &&
			    send_back(&p, cell, LARGE, SIZE_MAX) == 0 &&
			    onion_cell_parse(cell, LARGE, &cmd, &st, &b,
			    &len) == 0 && cmd == 2 && st == s &&
			    len == sizeof(block) &&
			    memcmp(b, block, sizeof(block)) == 0;
		path_wipe(&p);
	}
	TAP_OK(ok, "n=1..8: backward blocks open at the origin");
	net_init(&net, 3);
	TAP_OK(path_build(&p, &net, 3) &&
	    onion_cell_format(cell, SMALL, 3, 1, NULL, 0) == 0 &&
	    send_back(&p, cell, SMALL, 1) == ONION_EAUTH,
	    "a backward cell altered on the way fails at the origin");
	path_wipe(&p);
}

static void
test_cell_format(void)
{
	uint8_t cell[SMALL], cmd, body[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t frame[LINK_FRAME_MAX_BYTES];
	const uint8_t *b;
	struct link_keys lk = { { 0 }, { 0 }, 0, 0 };
	uint32_t st;
	size_t len, wire = 0;
	bool ok;

	TAP_OK(SMALL + ONION_PATH_ID_BYTES + LINK_FRAME_HEADERBYTES ==
	    LINK_PLAIN1_BYTES && LARGE + ONION_PATH_ID_BYTES +
	    LINK_FRAME_HEADERBYTES == LINK_PLAIN2_BYTES &&
	    ONION_BUILD_BYTES == 1984, "cells fill a frame class exactly");
	memset(big, 0, ONION_PATH_ID_BYTES + LARGE);
	ok = link_frame_seal(&lk, 33, big, ONION_PATH_ID_BYTES + SMALL, frame,
	    sizeof(frame), &wire) == 0 && wire == LINK_FRAME1_BYTES;
	ok &= link_frame_seal(&lk, 34, big, ONION_PATH_ID_BYTES + LARGE,
	    frame, sizeof(frame), &wire) == 0 && wire == LINK_FRAME2_BYTES;
	TAP_OK(ok, "a small cell is a class 1 frame, a large one class 2");
	TAP_OK(onion_cell_format(cell, SMALL, 9, 0xa1b2c3d4, body, 8) == 0 &&
	    onion_cell_parse(cell, SMALL, &cmd, &st, &b, &len) == 0 &&
	    cmd == 9 && st == 0xa1b2c3d4 && len == 8 && b == cell + 17 &&
	    memcmp(b, body, 8) == 0, "format and parse agree");
	cell[SMALL - 1] = 1;
	TAP_OK(onion_cell_parse(cell, SMALL, &cmd, &st, &b, &len) ==
	    ONION_EPADDING, "nonzero padding: EPADDING");
	cell[SMALL - 1] = 0;
	cell[15] = 0xff;	/* len = 0xff08: past the end */
	TAP_OK(onion_cell_parse(cell, SMALL, &cmd, &st, &b, &len) ==
	    ONION_EFORMAT, "len past the end: EFORMAT");
	cell[15] = 0;
	cell[1] = 1;
	TAP_OK(onion_cell_parse(cell, SMALL, &cmd, &st, &b, &len) ==
	    ONION_EFORMAT, "recognized not 0: EFORMAT");
	TAP_OK(onion_cell_parse(cell, SMALL - 1, &cmd, &st, &b, &len) ==
	    ONION_ELEN && onion_cell_format(cell, SMALL, 1, 0, body,
	    SMALL - 16) == ONION_EFORMAT && onion_cell_format(cell, 100, 1, 0,
	    NULL, 0) == ONION_ELEN, "wrong sizes refused");
}

/* The descriptor of onion_kat.py, signed; sk receives the identity key. */
static void
desc_make(struct onion_desc *d, uint8_t sk[crypto_sign_SECRETKEYBYTES],
    uint8_t seed_byte)
{
	uint8_t seed[32], osk[32];

	memset(d, 0, sizeof(*d));
	memset(seed, seed_byte, sizeof(seed));
	memset(osk, 0x43, sizeof(osk));
	crypto_sign_seed_keypair(d->identity, sk, seed);
	crypto_scalarmult_base(d->onion_pk, osk);
	d->not_after = 1900000000;
	d->family = 4;
	memcpy(d->addr, (const uint8_t[]){ 192, 0, 2, 7 }, 4);
	d->port = 4242;
}

#define DESC_NOW 1800000000

static void
test_desc(void)
{
	uint8_t sk[crypto_sign_SECRETKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
	uint8_t enc[ONION_DESC_BYTES], body[1 + ONION_DESC_BYTES];
	struct onion_desc d, d2, x;
	static struct link_msg m;
	size_t len = 0;
	bool ok = true;

	desc_make(&d, sk, 0x42);
	TAP_OK(onion_desc_sign(&d, sk) == 0 &&
	    onion_desc_verify(&d, DESC_NOW) == 0 &&
	    onion_desc_verify(&d, d.not_after) == 0,
	    "a signed descriptor verifies");
	m.type = LINK_MSG_RELAYS;
	m.relays.n = 1;
	m.relays.descs[0] = d;
	TAP_OK(link_msg_encode(&m, body, sizeof(body), &len) == 0 &&
	    len == sizeof(body) && eq_hex(body, len, KAT_RELAYS1_HEX),
	    "known answer: a RELAYS body with one descriptor");
	TAP_OK(link_msg_decode(LINK_MSG_RELAYS, big, (hex(big, len,
	    KAT_RELAYS1_HEX), len), &m) == 0 && m.relays.n == 1 &&
	    memcmp(&m.relays.descs[0], &d, sizeof(d)) == 0 &&
	    onion_desc_verify(&m.relays.descs[0], DESC_NOW) == 0,
	    "the known-answer RELAYS decodes to it and verifies");

	/* Every byte of every field, flipped: refused by decode or verify. */
	if (onion_desc_encode(&d, enc) != 0)
		ok = false;
	for (size_t i = 0; i < sizeof(enc); i++) {
		int rc;

		enc[i] ^= 0x01;
		rc = onion_desc_decode(enc, sizeof(enc), &x);
		ok &= rc == ONION_EFORMAT ||
		    (rc == 0 && onion_desc_verify(&x, DESC_NOW) != 0);
		enc[i] ^= 0x01;
	}
	TAP_OK(ok, "a flipped bit in any of the 155 bytes is refused");
	TAP_OK(onion_desc_decode(enc, sizeof(enc), &x) == 0 &&
	    memcmp(&x, &d, sizeof(d)) == 0 &&
	    onion_desc_decode(enc, sizeof(enc) - 1, &x) == ONION_EFORMAT &&
	    (memcpy(big, enc, sizeof(enc)), big[sizeof(enc)] = 0,
	    onion_desc_decode(big, sizeof(enc) + 1, &x)) == ONION_EFORMAT,
	    "encode and decode agree; short or long is refused");
	TAP_OK(onion_desc_verify(&d, d.not_after + 1) == ONION_EEXPIRED,
	    "an expired descriptor is refused");

	desc_make(&d2, sk2, 0x44);
	x = d;
	memcpy(x.identity, d2.identity, sizeof(x.identity));
	TAP_OK(onion_desc_sign(&x, sk) == ONION_EINVAL &&
	    onion_desc_verify(&x, DESC_NOW) == ONION_ESIG,
	    "signing for another identity: EINVAL; its signature: ESIG");
	TAP_OK(onion_desc_sign(&d2, sk2) == 0 &&
	    onion_desc_verify(&d2, DESC_NOW) == 0 &&
	    (memcpy(d2.sig, d.sig, sizeof(d.sig)),
	    onion_desc_verify(&d2, DESC_NOW)) == ONION_ESIG,
	    "a descriptor signed by another key is refused");

	x = d;
	x.addr[4] = 1;
	ok = onion_desc_sign(&x, sk) == ONION_EFORMAT &&
	    onion_desc_verify(&x, DESC_NOW) == ONION_EFORMAT &&
	    onion_desc_encode(&x, enc) == ONION_EFORMAT;
	x = d;
	x.family = 5;
	ok &= onion_desc_sign(&x, sk) == ONION_EFORMAT &&
	    onion_desc_verify(&x, DESC_NOW) == ONION_EFORMAT;
	TAP_OK(ok, "family 5 or nonzero unused IPv4 bytes: EFORMAT");
	x = d;
	x.family = 6;
	memset(x.addr, 0xfe, sizeof(x.addr));
	TAP_OK(onion_desc_sign(&x, sk) == 0 && onion_desc_encode(&x, enc) == 0 &&
	    onion_desc_decode(enc, sizeof(enc), &d2) == 0 &&
	    onion_desc_verify(&d2, DESC_NOW) == 0, "an IPv6 descriptor verifies");
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(sk2, sizeof(sk2));
}

static void
test_strerror(void)
{
	bool ok = true;

	for (int e = ONION_EEXPIRED; e <= ONION_OK; e++)
		ok &= strcmp(onion_strerror(e), "unknown onion error") != 0;
	TAP_OK(ok && strcmp(onion_strerror(1), "unknown onion error") == 0,
	    "onion_strerror names every code");
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_known_answers();
	test_round_trips();
	test_build_errors();
	test_record_format();
	test_forward();
	test_backward();
	test_cell_format();
	test_desc();
	test_strerror();
	return tap_done();
}
